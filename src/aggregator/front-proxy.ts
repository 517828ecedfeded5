/**
 * The front-proxy identity: its own CA (the "requestheader" CA, never trusted for ordinary
 * clients), a client certificate named front-proxy-client that the aggregator presents to the
 * API servers behind it, and the kube-system/extension-apiserver-authentication ConfigMap those
 * servers read to trust it, as upstream publishes it.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { issueCertificate, loadOrCreateCa, type KeyAndCert } from '../auth/pki.js';

export interface FrontProxyCredentials {
  ca: KeyAndCert;
  client: KeyAndCert;
}

export async function loadOrCreateFrontProxy(pkiDir: string): Promise<FrontProxyCredentials> {
  const dir = join(pkiDir, 'front-proxy');
  const ca = await loadOrCreateCa(dir);
  const keyPath = join(dir, 'front-proxy-client.key');
  const certPath = join(dir, 'front-proxy-client.crt');
  if (existsSync(keyPath) && existsSync(certPath)) return { ca, client: { keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8') } };
  const client = await issueCertificate(ca, { commonName: 'front-proxy-client', usage: 'client', validDays: 365 });
  await writeFile(keyPath, client.keyPem, { mode: 0o600 });
  await writeFile(certPath, client.certPem, { mode: 0o644 });
  return { ca, client };
}

/** The data of kube-system/extension-apiserver-authentication. */
export function extensionApiserverAuthentication(clientCaPem: string, frontProxy: FrontProxyCredentials): Record<string, string> {
  return {
    'client-ca-file': clientCaPem,
    'requestheader-client-ca-file': frontProxy.ca.certPem,
    'requestheader-allowed-names': JSON.stringify(['front-proxy-client']),
    'requestheader-username-headers': JSON.stringify(['X-Remote-User']),
    'requestheader-group-headers': JSON.stringify(['X-Remote-Group']),
    'requestheader-extra-headers-prefix': JSON.stringify(['X-Remote-Extra-']),
  };
}
