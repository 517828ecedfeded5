/**
 * The scheduling queue (upstream's internal/queue.PriorityQueue), three parts:
 *  - activeQ: pods ready for a scheduling attempt, a heap in the QueueSort plugin's order
 *    (priority, then time in the queue);
 *  - backoffQ: pods that failed and wait out their backoff (1 s doubling to 10 s), ordered by expiry;
 *  - unschedulable pods: pods no node fit, parked until a cluster event one of the plugins that
 *    rejected them cares about (or 5 minutes at most), and pods kept out by a PreEnqueue plugin
 *    (scheduling gates) until they change.
 * An event during a pod's own attempt sends it to backoffQ instead of parking it, so it is not
 * stranded by a change it could not see (upstream's moveRequestCycle).
 */
import { KeyedHeap } from './heap.js';
import type { ClusterEvent, Pod, QueuedPod, Result } from './types.js';

export interface QueueOptions {
  less: (a: QueuedPod, b: QueuedPod) => boolean;
  preEnqueue: (pod: Pod) => Result;
  /** Which plugins registered for an event (a pod rejected by one of them moves). */
  pluginsFor: (event: ClusterEvent) => ReadonlySet<string>;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Longest an unschedulable pod waits without an event (podMaxInUnschedulablePodsDuration). */
  maxInUnschedulableMs?: number;
  now?: () => number;
}

const FLUSH_BACKOFF_EVERY_MS = 1000;
const FLUSH_UNSCHEDULABLE_EVERY_MS = 30_000;

export class SchedulingQueue {
  private readonly activeQ: KeyedHeap<QueuedPod>;
  private readonly backoffQ: KeyedHeap<QueuedPod>;
  private readonly unschedulable = new Map<string, QueuedPod>();
  /** Pods handed out by pop and not yet done (bound, failed or deleted). */
  private readonly inFlight = new Set<string>();
  private schedulingCycle = 0;
  private moveRequestCycle = -1;
  private waiters: Array<(pod: QueuedPod | undefined) => void> = [];
  private closed = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly now: () => number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInUnschedulableMs: number;

  constructor(private readonly options: QueueOptions) {
    this.now = options.now ?? Date.now;
    this.initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.maxInUnschedulableMs = options.maxInUnschedulableMs ?? 5 * 60_000;
    this.activeQ = new KeyedHeap((p) => p.key, options.less);
    this.backoffQ = new KeyedHeap((p) => p.key, (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
  }

  /** Starts the periodic flushes (backoff every second, leftovers every 30 s). */
  run(): void {
    this.timers.push(setInterval(() => this.flushBackoffCompleted(), FLUSH_BACKOFF_EVERY_MS).unref());
    this.timers.push(setInterval(() => this.flushUnschedulableLeftover(), FLUSH_UNSCHEDULABLE_EVERY_MS).unref());
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  get counts(): { active: number; backoff: number; unschedulable: number; gated: number } {
    let gated = 0;
    for (const p of this.unschedulable.values()) if (p.gatedBy) gated++;
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size - gated, gated };
  }

  /** The cycle number of the next pop (pods remember it to detect moves during their attempt). */
  get cycle(): number {
    return this.schedulingCycle;
  }

  /** A new pending pod. */
  add(pod: Pod): void {
    const key = keyOf(pod);
    this.backoffQ.delete(key);
    this.unschedulable.delete(key);
    const now = this.now();
    this.enqueue({ pod, key, timestamp: now, initialAttemptTimestamp: now, attempts: 0, unschedulablePlugins: new Set() });
  }

  /** A pending pod changed. */
  update(oldPod: Pod, pod: Pod): void {
    const key = keyOf(pod);
    const active = this.activeQ.get(key);
    if (active) {
      active.pod = pod;
      this.activeQ.addOrUpdate(active);
      return;
    }
    const backingOff = this.backoffQ.get(key);
    if (backingOff) {
      backingOff.pod = pod;
      this.backoffQ.addOrUpdate(backingOff);
      return;
    }
    const parked = this.unschedulable.get(key);
    if (parked) {
      parked.pod = pod;
      // Only a change to what scheduling reads (not status alone) is worth another attempt.
      if (parked.gatedBy || specOrLabelsChanged(oldPod, pod)) {
        this.unschedulable.delete(key);
        this.requeue(parked);
      }
      return;
    }
    if (this.inFlight.has(key)) return;
    this.add(pod);
  }

  delete(pod: Pod): void {
    const key = keyOf(pod);
    this.activeQ.delete(key);
    this.backoffQ.delete(key);
    this.unschedulable.delete(key);
  }

  /** The next pod to schedule; waits while activeQ is empty; undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const next = this.activeQ.pop();
    if (next) return Promise.resolve(this.handOut(next));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Pops without waiting (the scheduler drains a batch per turn of the event loop). */
  tryPop(): QueuedPod | undefined {
    const next = this.activeQ.pop();
    return next && this.handOut(next);
  }

  /** The pod's attempt ended (bound, or requeued by addUnschedulable / addBackoff). */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /**
   * A pod no node fit in the attempt that started at `cycle`: park it, or back it off when an
   * event happened meanwhile (or it failed with an error rather than a rejection).
   */
  addUnschedulable(queued: QueuedPod, cycle: number): void {
    this.inFlight.delete(queued.key);
    if (this.activeQ.has(queued.key) || this.backoffQ.has(queued.key) || this.unschedulable.has(queued.key)) return;
    queued.timestamp = this.now();
    if (this.moveRequestCycle >= cycle || queued.unschedulablePlugins.size === 0) this.backoffQ.addOrUpdate(queued);
    else this.unschedulable.set(queued.key, queued);
  }

  /** Moves parked pods that a plugin registered for `event` rejected (or all, for a flush). */
  moveAllToActiveOrBackoff(event: ClusterEvent): void {
    const plugins = this.options.pluginsFor(event);
    if (plugins.size > 0 && this.unschedulable.size > 0) {
      for (const [key, queued] of this.unschedulable) {
        if (queued.gatedBy) continue;
        if (queued.unschedulablePlugins.size > 0 && ![...queued.unschedulablePlugins].some((name) => plugins.has(name))) continue;
        this.unschedulable.delete(key);
        this.requeue(queued);
      }
    }
    this.moveRequestCycle = this.schedulingCycle;
  }

  /** Moves the named pods now (preemption's victims are gone, a nominated node changed …). */
  activate(pods: readonly Pod[]): void {
    for (const pod of pods) {
      const key = keyOf(pod);
      const queued = this.unschedulable.get(key) ?? this.backoffQ.get(key);
      if (!queued || queued.gatedBy) continue;
      this.unschedulable.delete(key);
      this.backoffQ.delete(key);
      this.push(queued);
    }
  }

  flushBackoffCompleted(): void {
    const now = this.now();
    for (let head = this.backoffQ.peek(); head && this.backoffExpiry(head) <= now; head = this.backoffQ.peek()) {
      this.backoffQ.pop();
      this.push(head);
    }
  }

  flushUnschedulableLeftover(): void {
    const now = this.now();
    for (const [key, queued] of this.unschedulable) {
      if (queued.gatedBy || now - queued.timestamp < this.maxInUnschedulableMs) continue;
      this.unschedulable.delete(key);
      this.requeue(queued);
    }
  }

  /** How long the pod backs off after `attempts` failures: 1 s, 2 s, 4 s … at most 10 s. */
  backoffDuration(queued: QueuedPod): number {
    const exponent = Math.max(0, queued.attempts - 1);
    return Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(exponent, 30));
  }

  private backoffExpiry(queued: QueuedPod): number {
    return queued.timestamp + this.backoffDuration(queued);
  }

  private enqueue(queued: QueuedPod): void {
    const gate = this.options.preEnqueue(queued.pod);
    if (gate) {
      queued.gatedBy = gate.plugin ?? 'PreEnqueue';
      this.unschedulable.set(queued.key, queued);
      return;
    }
    queued.gatedBy = undefined;
    this.push(queued);
  }

  /** Back into activeQ, unless its backoff has not expired yet. */
  private requeue(queued: QueuedPod): void {
    const gate = this.options.preEnqueue(queued.pod);
    if (gate) {
      queued.gatedBy = gate.plugin ?? 'PreEnqueue';
      this.unschedulable.set(queued.key, queued);
      return;
    }
    const wasGated = queued.gatedBy !== undefined;
    queued.gatedBy = undefined;
    if (!wasGated && queued.attempts > 0 && this.backoffExpiry(queued) > this.now()) this.backoffQ.addOrUpdate(queued);
    else this.push(queued);
  }

  private push(queued: QueuedPod): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(this.handOut(queued));
    else this.activeQ.addOrUpdate(queued);
  }

  private handOut(queued: QueuedPod): QueuedPod {
    queued.attempts++;
    this.schedulingCycle++;
    this.inFlight.add(queued.key);
    return queued;
  }
}

function keyOf(pod: Pod): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

function specOrLabelsChanged(oldPod: Pod, pod: Pod): boolean {
  if (JSON.stringify(oldPod.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {})) return true;
  return JSON.stringify(oldPod.spec) !== JSON.stringify(pod.spec);
}
