/**
 * --max-requests-inflight / --max-mutating-requests-inflight without API Priority and Fairness
 * (upstream's WithMaxInFlightLimit): two counters, one for reads and one for writes; beyond its
 * limit a request is refused at once with 429. system:masters and long-running requests are not
 * counted. A limit of 0 means no limit.
 */
import type { UserInfo } from '../auth/authenticate.js';
import type { RequestInfo } from '../server/request-info.js';
import { isLongRunning } from './long-running.js';
import type { Admission } from './priority-and-fairness.js';

const READ_ONLY_VERBS = new Set(['get', 'list', 'watch']);

export class MaxInflightLimit {
  private reads = 0;
  private mutations = 0;

  constructor(private readonly limits: { maxRequestsInflight: number; maxMutatingRequestsInflight: number }) {}

  admit(info: RequestInfo, user: UserInfo): Admission {
    if (isLongRunning(info) || user.groups.includes('system:masters')) return { admitted: true, release: () => {}, headers: {} };
    const mutating = !READ_ONLY_VERBS.has(info.verb);
    const limit = mutating ? this.limits.maxMutatingRequestsInflight : this.limits.maxRequestsInflight;
    if (limit <= 0) return { admitted: true, release: () => {}, headers: {} };
    if ((mutating ? this.mutations : this.reads) >= limit) return { admitted: false, reason: 'concurrency-limit', headers: {} };
    if (mutating) this.mutations++;
    else this.reads++;
    let released = false;
    return {
      admitted: true,
      headers: {},
      release: () => {
        if (released) return;
        released = true;
        if (mutating) this.mutations--;
        else this.reads--;
      },
    };
  }
}
