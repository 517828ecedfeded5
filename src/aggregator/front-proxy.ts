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
import type { SealedKeyFiles } from '../storage/keys/sealed-key-files.js';

export interface FrontProxyCredentials {
  ca: KeyAndCert;
  client: KeyAndCert;
}

export async function loadOrCreateFrontProxy(keys: SealedKeyFiles): Promise<FrontProxyCredentials> {
  const ca = await loadOrCreateCa(keys, 'front-proxy');
  const certPath = join(keys.root, 'front-proxy', 'front-proxy-client.crt');
  const keyPem = await keys.read(join('front-proxy', 'front-proxy-client.key'));
  if (keyPem !== undefined && existsSync(certPath)) return { ca, client: { keyPem, certPem: await readFile(certPath, 'utf8') } };
  const client = await issueCertificate(ca, { commonName: 'front-proxy-client', usage: 'client', validDays: 365 });
  await keys.write(join('front-proxy', 'front-proxy-client.key'), client.keyPem);
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
