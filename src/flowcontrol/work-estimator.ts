/**
 * How many seats a request occupies (upstream's WorkEstimator, for lists): a LIST costs one seat
 * per 100 objects it is expected to touch, at least 1 and at most 10. The objects touched are the
 * resource's stored objects (all namespaces, as upstream's object-count statistics), or the
 * `limit` when one is given and no label or field selector makes the server scan past it. Every
 * other request costs 1 seat (watches and other long-running requests hold none).
 */
import type { RequestInfo } from '../server/request-info.js';

export const MINIMUM_SEATS = 1;
export const MAXIMUM_SEATS = 10;
export const OBJECTS_PER_SEAT = 100;

/** The stored object count of `group/resource` (undefined: not known). */
export type ObjectCounter = (group: string, resource: string) => number | undefined;

export function estimateSeats(info: RequestInfo, query: URLSearchParams | undefined, countObjects: ObjectCounter | undefined): number {
  if (!info.isResourceRequest || info.verb !== 'list' || !info.resource || !countObjects) return MINIMUM_SEATS;
  const stored = countObjects(info.group, info.resource);
  if (stored === undefined) return MINIMUM_SEATS;
  let touched = stored;
  const limit = Number(query?.get('limit') ?? 0);
  const filtered = Boolean(query?.get('labelSelector') || query?.get('fieldSelector'));
  if (Number.isInteger(limit) && limit > 0 && !filtered) touched = Math.min(touched, limit);
  return Math.max(MINIMUM_SEATS, Math.min(MAXIMUM_SEATS, Math.ceil(touched / OBJECTS_PER_SEAT)));
}
