import http from 'node:http';
import https from 'node:https';

/**
 * One bounded JSON POST (KMS, a key-release service): a timeout, a response size cap, and errors
 * that name the service. Non-2xx answers reject with the parsed body for the caller to word.
 */
const TIMEOUT_MS = 15_000;
const MAX_RESPONSE_BYTES = 1 << 20;

export class JsonPostError extends Error {
  constructor(message: string, readonly status: number | undefined, readonly body: Record<string, unknown> | undefined) {
    super(message);
  }
}

export function postJson(url: URL, headers: Record<string, string>, body: string, options: { what: string; ca?: string }): Promise<Record<string, unknown>> {
  const transport = url.protocol === 'http:' ? http : https;
  const what = `${options.what} at ${url.origin}`;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { method: 'POST', headers, timeout: TIMEOUT_MS, ...(options.ca && { ca: options.ca }) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new JsonPostError(`${what}: response larger than ${MAX_RESPONSE_BYTES} bytes`, res.statusCode, undefined));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const object = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300 && object) resolve(object);
        else reject(new JsonPostError(`${what}: HTTP ${status}${object ? '' : `, not a JSON object: ${text.slice(0, 200)}`}`, status, object));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new JsonPostError(`${what}: no answer in ${TIMEOUT_MS / 1000}s`, undefined, undefined)));
    req.on('error', (error) => reject(error instanceof JsonPostError ? error : new JsonPostError(`${what}: ${error.message}`, undefined, undefined)));
    req.end(body);
  });
}
