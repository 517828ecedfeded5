/** The admin client credentials and the kubeconfig file that carries them. */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { issueCertificate, type KeyAndCert } from '../auth/pki.js';

export async function loadOrCreateAdminCredentials(ca: KeyAndCert, pkiDir: string): Promise<KeyAndCert> {
  const keyPath = join(pkiDir, 'admin.key');
  const certPath = join(pkiDir, 'admin.crt');
  if (existsSync(keyPath) && existsSync(certPath)) return { keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8') };
  // system:masters is the group upstream's RBAC bootstrap grants cluster-admin.
  const admin = await issueCertificate(ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client', validDays: 365 });
  await writeFile(keyPath, admin.keyPem, { mode: 0o600 });
  await writeFile(certPath, admin.certPem, { mode: 0o600 });
  return admin;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

export function kubeconfigYaml(options: { server: string; caPem: string; client?: KeyAndCert; clusterName?: string; userName?: string }): string {
  const cluster = options.clusterName ?? 'nautilus';
  const user = options.userName ?? 'nautilus-admin';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: options.server, 'certificate-authority-data': b64(options.caPem) } }],
    users: [{ name: user, user: options.client ? { 'client-certificate-data': b64(options.client.certPem), 'client-key-data': b64(options.client.keyPem) } : {} }],
    contexts: [{ name: cluster, context: { cluster, user } }],
    'current-context': cluster,
    preferences: {},
  });
}
