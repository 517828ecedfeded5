/**
 * One priority level's seats and queues (upstream's fairqueuing QueueSet, simplified): a request
 * runs at once while a seat is free; otherwise its flow is shuffle-sharded onto a hand of queues
 * and it waits in the shortest of them; when a seat frees, queues are served round-robin, so a
 * flow with hundreds of waiting requests gets one turn per round like a flow with one. Every
 * request costs one seat (no work estimates), and a full queue or a long wait is a rejection.
 */
import { createHash } from 'node:crypto';

export interface QueuingSettings {
  queues: number;
  handSize: number;
  queueLengthLimit: number;
}

export interface QueueSetOptions {
  /** Seats: requests that may execute at once. */
  concurrencyLimit: number;
  /** Absent: the level rejects instead of queuing (limitResponse Reject). */
  queuing?: QueuingSettings;
  /** How long a request may wait for a seat before it is rejected. */
  maxWaitMs: number;
}

export type Release = () => void;

/** Why a request was not admitted (upstream's apiserver_flowcontrol_rejected_requests_total reasons). */
export class Rejected extends Error {
  constructor(readonly reason: 'queue-full' | 'concurrency-limit' | 'time-out' | 'cancelled') {
    super(reason);
  }
}

interface Waiter {
  admit: (release: Release) => void;
  reject: (error: Rejected) => void;
  timer?: NodeJS.Timeout;
  done: boolean;
}

export class QueueSet {
  private executing = 0;
  private readonly queues: Waiter[][];
  private waiting = 0;
  /** The queue the next round-robin scan starts at. */
  private cursor = 0;

  constructor(readonly options: QueueSetOptions) {
    this.queues = Array.from({ length: options.queuing?.queues ?? 0 }, () => []);
  }

  get executingCount(): number {
    return this.executing;
  }

  get waitingCount(): number {
    return this.waiting;
  }

  /**
   * Admits a request of flow `flowKey` (schema name + distinguisher): resolves with its release
   * function once it holds a seat; rejects with Rejected when it cannot get one. `cancelled`
   * withdraws a waiting request (its client went away).
   */
  acquire(flowKey: string, cancelled?: (withdraw: () => void) => void): Promise<Release> {
    if (this.executing < this.options.concurrencyLimit && this.waiting === 0) return Promise.resolve(this.seat());
    const queuing = this.options.queuing;
    if (!queuing) return Promise.reject(new Rejected('concurrency-limit'));
    const queue = this.shortestInHand(flowKey, queuing);
    if (queue.length >= queuing.queueLengthLimit) return Promise.reject(new Rejected('queue-full'));
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { admit: resolve, reject, done: false };
      const drop = (reason: Rejected['reason']) => {
        if (waiter.done) return;
        waiter.done = true;
        clearTimeout(waiter.timer);
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        this.waiting--;
        reject(new Rejected(reason));
      };
      waiter.timer = setTimeout(() => drop('time-out'), this.options.maxWaitMs);
      queue.push(waiter);
      this.waiting++;
      cancelled?.(() => drop('cancelled'));
    });
  }

  private seat(): Release {
    this.executing++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.executing--;
      this.dispatch();
    };
  }

  /** Hands free seats to waiting requests, one queue at a time in turn. */
  private dispatch(): void {
    while (this.waiting > 0 && this.executing < this.options.concurrencyLimit) {
      const waiter = this.nextWaiter();
      if (!waiter) return;
      waiter.done = true;
      clearTimeout(waiter.timer);
      this.waiting--;
      waiter.admit(this.seat());
    }
  }

  private nextWaiter(): Waiter | undefined {
    for (let scanned = 0; scanned < this.queues.length; scanned++) {
      const queue = this.queues[this.cursor];
      this.cursor = (this.cursor + 1) % this.queues.length;
      if (queue.length > 0) return queue.shift();
    }
    return undefined;
  }

  /** Shuffle sharding: the flow's hash deals `handSize` distinct queues; the emptiest one takes it. */
  private shortestInHand(flowKey: string, queuing: QueuingSettings): Waiter[] {
    let best: Waiter[] | undefined;
    for (const index of dealHand(flowKey, this.queues.length, Math.min(queuing.handSize, this.queues.length))) {
      const queue = this.queues[index];
      if (!best || queue.length < best.length) best = queue;
    }
    return best!;
  }
}

/** Deals `handSize` distinct cards from a deck of `deckSize` by the flow's 64-bit hash (upstream's shufflesharding.Dealer). */
export function dealHand(flowKey: string, deckSize: number, handSize: number): number[] {
  let value = createHash('sha256').update(flowKey).digest().readBigUInt64BE(0);
  const remaining = Array.from({ length: deckSize }, (_, i) => i);
  const hand: number[] = [];
  for (let i = 0; i < handSize; i++) {
    const size = BigInt(remaining.length);
    const pick = Number(value % size);
    value /= size;
    hand.push(remaining[pick]);
    remaining.splice(pick, 1);
  }
  return hand;
}
