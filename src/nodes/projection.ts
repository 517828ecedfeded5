/**
 * What a container sees of its pod: the environment the kubelet would set (env, envFrom, the
 * downward API, the kubernetes service variables) and the files its volume mounts project
 * (ConfigMap, Secret, downward API and projected volumes, /etc/hostname). ConfigMaps and Secrets
 * are read through the node's own client, so the Node authorizer allows only those the pod refers to.
 */
import { ApiError } from '../api/status.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import { CONFIG_MAPS, SECRETS } from '../client/resource-types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = Record<string, any>;

export interface Projection {
  env: Record<string, string>;
  files: Map<string, Buffer>;
}

function fieldValue(pod: Obj, fieldPath: string): string {
  const labelsOrAnnotations = (map: Record<string, string> | undefined) =>
    Object.entries(map ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n');
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (keyed) return pod.metadata[keyed[1] as 'labels' | 'annotations']?.[keyed[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return labelsOrAnnotations(pod.metadata.labels);
    case 'metadata.annotations':
      return labelsOrAnnotations(pod.metadata.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
      return pod.status?.hostIP ?? '';
    default:
      return '';
  }
}

class Sources {
  private readonly configMaps = new Map<string, J | undefined>();
  private readonly secrets = new Map<string, J | undefined>();

  constructor(private readonly client: ApiClient, private readonly namespace: string) {}

  async configMap(name: string): Promise<Record<string, Buffer> | undefined> {
    if (!this.configMaps.has(name)) this.configMaps.set(name, await this.read(CONFIG_MAPS, name));
    const object = this.configMaps.get(name);
    if (!object) return undefined;
    const result: Record<string, Buffer> = {};
    for (const [key, value] of Object.entries(object.data ?? {})) result[key] = Buffer.from(String(value));
    for (const [key, value] of Object.entries(object.binaryData ?? {})) result[key] = Buffer.from(String(value), 'base64');
    return result;
  }

  async secret(name: string): Promise<Record<string, Buffer> | undefined> {
    if (!this.secrets.has(name)) this.secrets.set(name, await this.read(SECRETS, name));
    const object = this.secrets.get(name);
    if (!object) return undefined;
    const result: Record<string, Buffer> = {};
    for (const [key, value] of Object.entries(object.data ?? {})) result[key] = Buffer.from(String(value), 'base64');
    for (const [key, value] of Object.entries(object.stringData ?? {})) result[key] = Buffer.from(String(value));
    return result;
  }

  private async read(type: typeof CONFIG_MAPS, name: string): Promise<J | undefined> {
    try {
      return await this.client.get(type, this.namespace, name);
    } catch (error) {
      if (error instanceof ApiError && (error.code === 404 || error.code === 403)) return undefined;
      throw error;
    }
  }
}

function selectItems(data: Record<string, Buffer>, items: J[] | undefined): Array<[string, Buffer]> {
  if (!items || items.length === 0) return Object.entries(data);
  return items.filter((item) => data[item.key] !== undefined).map((item) => [item.path ?? item.key, data[item.key]]);
}

/** The files of one volume, relative to its mount point. */
async function volumeFiles(pod: Obj, volume: J, sources: Sources): Promise<Array<[string, Buffer]>> {
  const files: Array<[string, Buffer]> = [];
  const downward = (items: J[] | undefined) => {
    for (const item of items ?? []) if (item.fieldRef?.fieldPath) files.push([item.path, Buffer.from(fieldValue(pod, item.fieldRef.fieldPath))]);
  };
  if (volume.configMap) {
    const data = await sources.configMap(volume.configMap.name);
    if (data) files.push(...selectItems(data, volume.configMap.items));
  }
  if (volume.secret) {
    const data = await sources.secret(volume.secret.secretName);
    if (data) files.push(...selectItems(data, volume.secret.items));
  }
  if (volume.downwardAPI) downward(volume.downwardAPI.items);
  for (const source of volume.projected?.sources ?? []) {
    if (source.configMap) {
      const data = await sources.configMap(source.configMap.name);
      if (data) files.push(...selectItems(data, source.configMap.items));
    }
    if (source.secret) {
      const data = await sources.secret(source.secret.name);
      if (data) files.push(...selectItems(data, source.secret.items));
    }
    if (source.downwardAPI) downward(source.downwardAPI.items);
  }
  return files;
}

export async function projectContainer(pod: Obj, container: J, client: ApiClient): Promise<Projection> {
  const sources = new Sources(client, pod.metadata.namespace!);
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: pod.spec?.hostname ?? pod.metadata.name ?? '',
    HOME: '/root',
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: 'tcp://10.96.0.1:443',
  };
  for (const from of container.envFrom ?? []) {
    const data = from.configMapRef ? await sources.configMap(from.configMapRef.name) : from.secretRef ? await sources.secret(from.secretRef.name) : undefined;
    for (const [key, value] of Object.entries(data ?? {})) env[`${from.prefix ?? ''}${key}`] = value.toString('utf8');
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom;
    let value: string | undefined = variable.value !== undefined ? String(variable.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole: string, name: string) => env[name] ?? whole) : undefined;
    if (ref?.fieldRef) value = fieldValue(pod, ref.fieldRef.fieldPath);
    else if (ref?.configMapKeyRef) value = (await sources.configMap(ref.configMapKeyRef.name))?.[ref.configMapKeyRef.key]?.toString('utf8');
    else if (ref?.secretKeyRef) value = (await sources.secret(ref.secretKeyRef.name))?.[ref.secretKeyRef.key]?.toString('utf8');
    else if (ref?.resourceFieldRef) value = String(container.resources?.limits?.[ref.resourceFieldRef.resource.replace(/^limits\./, '')] ?? '');
    env[variable.name] = value ?? '';
  }
  const files = new Map<string, Buffer>([['/etc/hostname', Buffer.from(`${env.HOSTNAME}\n`)]]);
  const volumes = new Map<string, J>(((pod.spec?.volumes ?? []) as J[]).map((v) => [v.name, v]));
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    if (!volume) continue;
    const mountPath = String(mount.mountPath).replace(/\/+$/, '');
    for (const [relative, content] of await volumeFiles(pod, volume, sources)) {
      if (mount.subPath) {
        if (relative === mount.subPath) files.set(mountPath, content);
      } else {
        files.set(`${mountPath}/${relative}`, content);
      }
    }
  }
  return { env, files };
}
