/**
 * ServiceAccount (upstream's plugin/pkg/admission/serviceaccount): a new pod runs as
 * `spec.serviceAccountName` (default "default"), which must exist; unless the pod or its account
 * opts out (automountServiceAccountToken: false) it gets the projected `kube-api-access-<5>`
 * volume — a bound token (3607 s, which the kubelet refreshes), the `kube-root-ca.crt` CA and the
 * namespace — mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every
 * container and init container; the account's imagePullSecrets are copied when the pod has none.
 */
import { randomInt } from 'node:crypto';
import type { Registry } from '../../registry/registry.js';
import type { Obj } from '../../registry/strategy.js';
import type { Fields } from '../../registry/common/fields.js';
import { admissionForbidden, type AdmissionPlugin } from '../admission.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const VOLUME_PREFIX = 'kube-api-access-';
/** An hour plus a little, so the kubelet's refresh at 80% falls before expiry (upstream's value). */
const TOKEN_EXPIRATION_SECONDS = 3607;
/** How often a missing `default` account is looked for again: the controller creates it shortly after the namespace. */
const DEFAULT_ACCOUNT_ATTEMPTS = 10;
const ALPHANUMERIC = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(): string {
  return Array.from({ length: 5 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('');
}

async function findAccount(registry: Registry, namespace: string, name: string): Promise<Obj | undefined> {
  const attempts = name === DEFAULT_SERVICE_ACCOUNT ? DEFAULT_ACCOUNT_ATTEMPTS : 1;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100 + randomInt(100)));
    const found = registry.of('', 'serviceaccounts').tryGet(namespace, name)?.object as Obj | undefined;
    if (found) return found;
  }
  return undefined;
}

export function tokenVolume(name: string): Fields {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

function mountsToken(container: Fields): boolean {
  return (Array.isArray(container.volumeMounts) ? container.volumeMounts : []).some((m: Fields) => m?.mountPath === TOKEN_MOUNT_PATH);
}

function addTokenVolume(spec: Fields): void {
  const containers = [...(Array.isArray(spec.initContainers) ? spec.initContainers : []), ...(Array.isArray(spec.containers) ? spec.containers : [])].filter((c: Fields) => c && typeof c === 'object') as Fields[];
  const needing = containers.filter((c) => !mountsToken(c));
  if (needing.length === 0) return;
  const volumes: Fields[] = Array.isArray(spec.volumes) ? spec.volumes : [];
  const taken = new Set(volumes.map((v) => v?.name));
  let name = VOLUME_PREFIX + randomSuffix();
  while (taken.has(name)) name = VOLUME_PREFIX + randomSuffix();
  spec.volumes = [...volumes, tokenVolume(name)];
  for (const container of needing) container.volumeMounts = [...(Array.isArray(container.volumeMounts) ? container.volumeMounts : []), { name, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
}

export function serviceAccount(registry: () => Registry): AdmissionPlugin {
  return {
    name: 'ServiceAccount',
    async admit(attributes) {
      if (attributes.operation !== 'CREATE' || attributes.subresource || attributes.resource.group !== '' || attributes.resource.resource !== 'pods') return;
      const pod = attributes.object;
      const spec = pod?.spec;
      if (!pod || !spec || typeof spec !== 'object' || !attributes.namespace) return;
      // Mirror pods (static pods the kubelet reports) never run with API credentials.
      if (pod.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
      spec.serviceAccountName ||= spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
      spec.serviceAccount = spec.serviceAccountName;
      const account = await findAccount(registry(), attributes.namespace, spec.serviceAccountName);
      if (!account) {
        throw admissionForbidden(attributes, `error looking up service account ${attributes.namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`);
      }
      const automount = spec.automountServiceAccountToken ?? account.automountServiceAccountToken ?? true;
      if (automount) addTokenVolume(spec);
      if ((!Array.isArray(spec.imagePullSecrets) || spec.imagePullSecrets.length === 0) && Array.isArray(account.imagePullSecrets) && account.imagePullSecrets.length > 0) {
        spec.imagePullSecrets = account.imagePullSecrets.map((s: Fields) => ({ name: s?.name }));
      }
    },
  };
}
