/**
 * A Service's `spec.trafficDistribution` as the EndpointSlice controller writes it (upstream's
 * k8s.io/endpointslice/trafficdist), used when topology aware hints are not asked for:
 * `PreferClose` hints every ready endpoint that has a zone for that zone alone
 * (`hints.forZones: [{name: <its zone>}]`), so proxies keep traffic in the client's zone when they
 * can; a ready endpoint without a zone carries no hint; not-ready endpoints are left as they are.
 * Any other value (or none) means cluster-wide routing: every hint is removed.
 * Unchanged slices are rewritten only when one of their ready endpoints has a missing or wrong hint.
 */
import { hinted, isReady, removeHints, withoutHints, type HintTarget } from './topology-hints.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

export function applyTrafficDistribution(target: HintTarget, trafficDistribution: unknown): void {
  if (trafficDistribution !== 'PreferClose') {
    removeHints(target);
    return;
  }
  target.unchanged.forEach((endpoints, index) => {
    if (!endpoints.some(hintIsStale)) return;
    target.rewrite(index).push(...endpoints);
  });
  for (const list of target.written) {
    for (let i = 0; i < list.length; i++) list[i] = closeHinted(list[i]);
  }
}

function closeHinted(endpoint: Fields): Fields {
  if (!isReady(endpoint)) return endpoint;
  return endpoint.zone ? hinted(endpoint, endpoint.zone) : withoutHints(endpoint);
}

/** A ready endpoint whose hint is not exactly its own zone (or a stale hint on one without a zone). */
function hintIsStale(endpoint: Fields): boolean {
  if (!isReady(endpoint)) return false;
  const zones: Fields[] | undefined = endpoint.hints?.forZones;
  if (!endpoint.zone) return endpoint.hints !== undefined;
  return zones?.length !== 1 || zones[0]?.name !== endpoint.zone || Object.keys(endpoint.hints).length !== 1;
}
