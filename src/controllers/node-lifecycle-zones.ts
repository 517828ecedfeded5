/**
 * Zone-aware eviction for the node lifecycle controller (upstream's nodelifecycle zone states and
 * its RateLimitedTimedQueue). Nodes are grouped by zone ("region:\0:zone"); each zone is in a state
 * decided by how many of its nodes are not Ready:
 * - FullDisruption: no node Ready (and at least one not);
 * - PartialDisruption: more than 2 not Ready and at least --unhealthy-zone-threshold of them;
 * - Normal otherwise.
 * Adding the NoExecute taint (which makes the taint-eviction controller evict) goes through one
 * queue per zone, drained at a rate the zone's state decides: --node-eviction-rate in Normal and
 * FullDisruption, --secondary-node-eviction-rate in PartialDisruption when the zone has more than
 * --large-cluster-size-threshold nodes, and nothing in a smaller partially disrupted zone. When
 * every zone is fully disrupted, the controller suspects itself (or the network) rather than the
 * nodes: it takes the NoExecute taints off and taints nothing until a node is Ready again.
 */
import { TokenBucket } from '../client/rate-limiter.js';

export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

export interface EvictionSettings {
  /** Nodes tainted per second in a healthy zone (--node-eviction-rate). */
  evictionRate: number;
  /** ... in a partially disrupted large zone (--secondary-node-eviction-rate). */
  secondaryEvictionRate: number;
  /** Share of not-Ready nodes from which a zone is partially disrupted (--unhealthy-zone-threshold). */
  unhealthyZoneThreshold: number;
  /** Zones with at most this many nodes stop tainting when partially disrupted (--large-cluster-size-threshold). */
  largeClusterThreshold: number;
}

export const DEFAULT_EVICTION_SETTINGS: EvictionSettings = { evictionRate: 0.1, secondaryEvictionRate: 0.01, unhealthyZoneThreshold: 0.55, largeClusterThreshold: 50 };

/** The label that keeps a node out of the zone counts (upstream's labelNodeDisruptionExclusion). */
export const EXCLUDE_DISRUPTION_LABEL = 'node.kubernetes.io/exclude-disruption';

export function computeZoneState(ready: number, notReady: number, threshold: number): ZoneState {
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / (notReady + ready) >= threshold) return 'PartialDisruption';
  return 'Normal';
}

/** The tainting rate for a zone of `size` nodes in `state` (upstream's setLimiterInZone). */
export function taintingRate(state: ZoneState, size: number, settings: EvictionSettings): number {
  if (state === 'PartialDisruption') return size > settings.largeClusterThreshold ? settings.secondaryEvictionRate : 0;
  return settings.evictionRate;
}

/**
 * Node names waiting for their NoExecute taint, oldest first, each once, drained through a token
 * bucket with burst 1 (rate 0: never).
 */
export class ZoneTaintQueue {
  /** Name → when it may be processed (insertion order is the order added). */
  private readonly due = new Map<string, number>();
  private bucket: TokenBucket | undefined;

  constructor(rate: number, private readonly now: () => number) {
    this.bucket = rate > 0 ? new TokenBucket(rate, 1, now) : undefined;
  }

  get rate(): number {
    return this.bucket?.qps ?? 0;
  }

  get size(): number {
    return this.due.size;
  }

  /** Queues `name` unless it waits already; true when added. */
  add(name: string): boolean {
    if (this.due.has(name)) return false;
    this.due.set(name, this.now());
    return true;
  }

  remove(name: string): boolean {
    return this.due.delete(name);
  }

  has(name: string): boolean {
    return this.due.has(name);
  }

  /**
   * A new rate, if it differs. As upstream, a bucket that is empty now hands its emptiness on, so
   * a rate change is never a free extra taint.
   */
  setRate(rate: number): void {
    if (rate === this.rate) return;
    const wasEmpty = this.bucket ? this.bucket.msUntilToken() > 0 : false;
    this.bucket = rate > 0 ? new TokenBucket(rate, 1, this.now) : undefined;
    if (wasEmpty) this.bucket?.tryAccept();
  }

  /**
   * Processes due names in order while the bucket has tokens. `act` answers true when the name is
   * done (tainted, or nothing to do) and false to try it again after `retryMs`.
   */
  async drain(act: (name: string) => Promise<boolean>, retryMs: number): Promise<void> {
    for (;;) {
      const head = this.head();
      if (!head || head[1] > this.now() || !this.bucket?.tryAccept()) return;
      const [name] = head;
      this.due.delete(name);
      if (!(await act(name))) this.due.set(name, this.now() + retryMs);
    }
  }

  /** Milliseconds until the next name may be processed; undefined when none will be by itself. */
  nextInMs(): number | undefined {
    const head = this.head();
    if (!head || !this.bucket) return undefined;
    return Math.max(this.bucket.msUntilToken(), head[1] - this.now(), 0);
  }

  private head(): [string, number] | undefined {
    let best: [string, number] | undefined;
    for (const entry of this.due) if (!best || entry[1] < best[1]) best = entry;
    return best;
  }
}
