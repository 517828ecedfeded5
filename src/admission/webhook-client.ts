/**
 * Calling an admission webhook: its clientConfig (a URL, or a Service resolved through its
 * endpoints) over HTTPS verified with the configured caBundle, one AdmissionReview v1 per call,
 * bounded by timeoutSeconds.
 */
import { request } from 'node:https';
import { checkServerIdentity } from 'node:tls';
import type { Registry } from '../registry/registry.js';
import type { Obj } from '../registry/strategy.js';
import { resolveService } from '../server/service-resolver.js';

export interface WebhookClientConfig {
  url?: string;
  service?: { namespace: string; name: string; port?: number; path?: string };
  caBundle?: string;
}

/** Why a call failed (the message upstream puts after `failed calling webhook "<name>": `). */
export class WebhookCallError extends Error {}

const MAX_RESPONSE_BYTES = 3 * 1024 * 1024;

export async function callWebhook(registry: Registry, config: WebhookClientConfig, review: Obj, timeoutSeconds: number): Promise<Obj> {
  let url: URL;
  let serverName: string;
  if (config.url) {
    url = new URL(config.url);
    serverName = url.hostname.replace(/^\[|\]$/g, '');
  } else if (config.service) {
    try {
      ({ url, serverName } = resolveService(registry, config.service));
    } catch (error) {
      throw new WebhookCallError(`failed to call webhook: ${(error as Error).message}`);
    }
  } else {
    throw new WebhookCallError('failed to call webhook: no url or service configured');
  }
  const body = Buffer.from(JSON.stringify(review));
  const ca = config.caBundle ? Buffer.from(config.caBundle, 'base64').toString('utf8') : undefined;
  const isIp = /^[\d.]+$|:/.test(serverName);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        method: 'POST',
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || 443,
        path: `${url.pathname}${url.search}`,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': body.length },
        ca,
        servername: isIp ? undefined : serverName,
        // The certificate must name the host the config names (the Service DNS name when resolved).
        checkServerIdentity: (_host, cert) => checkServerIdentity(serverName, cert),
        timeout: timeoutSeconds * 1000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new WebhookCallError('failed to call webhook: response too large'));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) {
            return reject(new WebhookCallError(`received invalid webhook response: the server responded with the status code ${res.statusCode}`));
          }
          try {
            resolve(JSON.parse(text) as Obj);
          } catch (error) {
            reject(new WebhookCallError(`received invalid webhook response: ${(error as Error).message}`));
          }
        });
        res.on('error', (error) => reject(new WebhookCallError(`failed to call webhook: ${error.message}`)));
      },
    );
    req.on('timeout', () => req.destroy(new WebhookCallError(`failed to call webhook: Post "${url.href}": context deadline exceeded`)));
    req.on('error', (error) => reject(error instanceof WebhookCallError ? error : new WebhookCallError(`failed to call webhook: Post "${url.href}": ${error.message}`)));
    req.end(body);
  });
}
