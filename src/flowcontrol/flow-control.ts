/**
 * What the request pipeline asks before it serves a request: API Priority and Fairness (the
 * default) or, with --enable-priority-and-fairness=false, the plain max-inflight limits.
 */
import type { UserInfo } from '../auth/authenticate.js';
import type { Exchange } from '../server/exchange.js';
import type { RequestInfo } from '../server/request-info.js';
import type { Admission } from './priority-and-fairness.js';

export interface FlowControl {
  admit(info: RequestInfo, user: UserInfo, onCancel?: (withdraw: () => void) => void, query?: URLSearchParams): Promise<Admission> | Admission;
}

/** Upstream answers a refused request in plain text, with Retry-After: 1. */
export function respondTooManyRequests(ex: Exchange): void {
  ex.respond(429, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'retry-after': '1' }, 'Too many requests, please try again later.\n');
}
