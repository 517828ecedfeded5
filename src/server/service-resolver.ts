/**
 * Where the API server reaches a Service it calls itself (admission webhooks, aggregated API
 * servers): one ready endpoint of the Service's port, from its Endpoints or EndpointSlices —
 * there is no kube-proxy in front of a cluster IP here. TLS is verified against the Service's
 * DNS name (<name>.<namespace>.svc), as upstream's resolver does.
 */
import { ApiError } from '../api/status.js';
import type { Registry } from '../registry/registry.js';
import type { Obj } from '../registry/strategy.js';

export interface ServiceReference {
  namespace: string;
  name: string;
  port?: number;
  path?: string;
}

export interface ResolvedService {
  /** https://ip:port/path */
  url: URL;
  /** The name the serving certificate must carry. */
  serverName: string;
}

function unavailable(message: string): ApiError {
  return new ApiError(503, 'ServiceUnavailable', message);
}

export function resolveService(registry: Registry, ref: ServiceReference): ResolvedService {
  const port = ref.port ?? 443;
  const service = registry.of('', 'services').tryGet(ref.namespace, ref.name)?.object as Obj | undefined;
  if (!service) throw unavailable(`service "${ref.name}" not found`);
  const servicePort = (service.spec?.ports ?? []).find((p: Obj) => p.port === port);
  if (!servicePort) throw unavailable(`service "${ref.namespace}/${ref.name}" has no port ${port}`);
  const serverName = `${ref.name}.${ref.namespace}.svc`;
  const path = ref.path ?? '';
  if (service.spec?.type === 'ExternalName' && service.spec.externalName) {
    return { url: new URL(`https://${service.spec.externalName}:${port}${path}`), serverName };
  }
  const address = endpointAddress(registry, ref, servicePort);
  if (!address) throw unavailable(`no endpoints available for service "${ref.name}"`);
  const host = address.ip.includes(':') ? `[${address.ip}]` : address.ip;
  return { url: new URL(`https://${host}:${address.port}${path}`), serverName };
}

function endpointAddress(registry: Registry, ref: ServiceReference, servicePort: Obj): { ip: string; port: number } | undefined {
  const endpoints = registry.of('', 'endpoints').tryGet(ref.namespace, ref.name)?.object as Obj | undefined;
  for (const subset of endpoints?.subsets ?? []) {
    const port = (subset.ports ?? []).find((p: Obj) => (servicePort.name ? p.name === servicePort.name : true));
    const address = (subset.addresses ?? [])[0];
    if (port && address?.ip) return { ip: address.ip, port: port.port };
  }
  const slices = registry.of('discovery.k8s.io', 'endpointslices').list(ref.namespace, {}).items.map((s) => s.object as Obj);
  for (const slice of slices.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === ref.name)) {
    const port = (slice.ports ?? []).find((p: Obj) => (servicePort.name ? p.name === servicePort.name : true));
    const endpoint = (slice.endpoints ?? []).find((e: Obj) => e.conditions?.ready !== false && e.addresses?.length);
    if (port && endpoint) return { ip: endpoint.addresses[0], port: port.port };
  }
  return undefined;
}
