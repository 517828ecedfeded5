/**
 * Requests that stay open for as long as the client wants (upstream's long-running check: the
 * watch and proxy verbs, the attach, exec, log, portforward and proxy subresources): no
 * max-inflight or priority-level seat is held for them.
 */
import type { RequestInfo } from '../server/request-info.js';

const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'log', 'portforward', 'proxy']);

export function isLongRunning(info: RequestInfo): boolean {
  if (!info.isResourceRequest) return false;
  return info.verb === 'watch' || info.verb === 'proxy' || (info.subresource !== undefined && LONG_RUNNING_SUBRESOURCES.has(info.subresource));
}
