/** The admin client credentials and the kubeconfig file that carries them. */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { issueCertificate, type KeyAndCert } from '../auth/pki.js';
import type { SealedKeyFiles } from '../storage/keys/sealed-key-files.js';

export async function loadOrCreateAdminCredentials(ca: KeyAndCert, keys: SealedKeyFiles): Promise<KeyAndCert> {
  const certPath = join(keys.root, 'admin.crt');
  const keyPem = await keys.read('admin.key');
  if (keyPem !== undefined && existsSync(certPath)) return { keyPem, certPem: await readFile(certPath, 'utf8') };
  // system:masters is the group upstream's RBAC bootstrap grants cluster-admin.
  const admin = await issueCertificate(ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client', validDays: 365 });
  await keys.write('admin.key', admin.keyPem);
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

interface NamedEntry {
  name?: string;
  [key: string]: unknown;
}

/**
 * Writes the admin kubeconfig, keeping what the user made of it: when the file exists, only the
 * `nautilus` cluster's server and CA and the `nautilus-admin` user's credentials are brought up to
 * date (and the `nautilus` context put back if it is gone); the chosen namespace, the current
 * context, other clusters, users, contexts and preferences stay. Nothing is written when nothing
 * changed. A file that is not a kubeconfig is replaced.
 */
export async function writeAdminKubeconfig(path: string, options: { server: string; caPem: string; client: KeyAndCert }): Promise<void> {
  const fresh = kubeconfigYaml(options);
  let existing: Record<string, unknown> | undefined;
  if (existsSync(path)) {
    try {
      const parsed = parse(await readFile(path, 'utf8'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) existing = parsed as Record<string, unknown>;
    } catch {
      existing = undefined;
    }
  }
  if (!existing) {
    await writeFile(path, fresh, { mode: 0o600 });
    return;
  }
  const wanted = parse(fresh) as { clusters: NamedEntry[]; users: NamedEntry[]; contexts: NamedEntry[] };
  const before = JSON.stringify(existing);
  const upsert = (list: string, entry: NamedEntry, field: string, merge: (current: Record<string, unknown>, next: Record<string, unknown>) => Record<string, unknown>) => {
    const entries = Array.isArray(existing![list]) ? (existing![list] as NamedEntry[]) : [];
    existing![list] = entries;
    const current = entries.find((e) => e && e.name === entry.name);
    if (!current) entries.push(entry);
    else current[field] = merge((current[field] as Record<string, unknown>) ?? {}, entry[field] as Record<string, unknown>);
  };
  upsert('clusters', wanted.clusters[0], 'cluster', (current, next) => ({ ...current, ...next }));
  upsert('users', wanted.users[0], 'user', (current, next) => ({ ...current, ...next }));
  upsert('contexts', wanted.contexts[0], 'context', (current, next) => ({ ...next, ...current }));
  existing.apiVersion ??= 'v1';
  existing.kind ??= 'Config';
  if (!existing['current-context']) existing['current-context'] = wanted.contexts[0].name;
  if (JSON.stringify(existing) === before) return;
  await writeFile(path, stringify(existing), { mode: 0o600 });
}
