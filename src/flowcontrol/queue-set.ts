/**
 * One priority level's seats and queues (upstream's fairqueuing QueueSet, simplified): a request
 * runs at once while a seat is free; otherwise its flow is shuffle-sharded onto a hand of queues
 * and it waits in the shortest of them; when a seat frees, queues are served round-robin, so a
 * flow with hundreds of waiting requests gets one turn per round like a flow with one. A request
 * costs the seats its work estimate says (1 for most; a big LIST more), and a full queue or a long
 * wait is a rejection.
 *
 * One event loop does all the work, and most requests finish within the turn that admitted them, so
 * a seat counted only while the handler runs would almost never be taken: every request read in a
 * turn would run at once, first come first served, and the queues would stay empty. So a seat is
 * held until its request is done and the current turn of the event loop is over (it is given back
 * in setImmediate): a level does at most its seats' worth of requests per turn, the rest wait in
 * their queues, and the next turn serves them round-robin, with whatever else was read meanwhile.
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
  width: number;
  admit: (release: Release) => void;
  reject: (error: Rejected) => void;
  timer?: NodeJS.Timeout;
  done: boolean;
}

export class QueueSet {
  private executing = 0;
  private readonly queues: Waiter[][];
  private waiting = 0;
  private waitingSeats = 0;
  /** The queue the next round-robin scan starts at. */
  private cursor = 0;
  private limit: number;
  /** Seat demand (executing + waiting seats) integrated over time since the last demandStats(). */
  private demand = { since: performance.now(), last: performance.now(), integral: 0, squares: 0, highWater: 0 };

  constructor(readonly options: QueueSetOptions) {
    this.queues = Array.from({ length: options.queuing?.queues ?? 0 }, () => []);
    this.limit = Math.max(1, options.concurrencyLimit);
  }

  get executingCount(): number {
    return this.executing;
  }

  get waitingCount(): number {
    return this.waiting;
  }

  /** Seats this level may use now (its nominal limit, moved by borrowing and lending). */
  get concurrencyLimit(): number {
    return this.limit;
  }

  setConcurrencyLimit(limit: number): void {
    this.limit = Math.max(1, limit);
    this.dispatch();
  }

  /**
   * Admits a request of flow `flowKey` (schema name + distinguisher) that costs `width` seats:
   * resolves with its release function once it holds them; rejects with Rejected when it cannot
   * get them. `cancelled` withdraws a waiting request (its client went away).
   */
  acquire(flowKey: string, cancelled?: (withdraw: () => void) => void, width = 1): Promise<Release> {
    width = Math.max(1, Math.min(Math.ceil(width), this.limit));
    if (this.waiting === 0 && this.fits(width)) return Promise.resolve(this.seat(width));
    const queuing = this.options.queuing;
    if (!queuing) return Promise.reject(new Rejected('concurrency-limit'));
    const queue = this.shortestInHand(flowKey, queuing);
    if (queue.length >= queuing.queueLengthLimit) return Promise.reject(new Rejected('queue-full'));
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { width, admit: resolve, reject, done: false };
      const drop = (reason: Rejected['reason']) => {
        if (waiter.done) return;
        waiter.done = true;
        clearTimeout(waiter.timer);
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        this.changeWaiting(-1, -width);
        reject(new Rejected(reason));
      };
      waiter.timer = setTimeout(() => drop('time-out'), this.options.maxWaitMs);
      queue.push(waiter);
      this.changeWaiting(1, width);
      cancelled?.(() => drop('cancelled'));
    });
  }

  /** Mean, standard deviation and high water mark of the seat demand since the last call (then reset). */
  demandStats(now = performance.now()): { average: number; stdDev: number; highWater: number } {
    this.accumulate(now);
    const span = now - this.demand.since;
    const current = this.executing + this.waitingSeats;
    const average = span > 0 ? this.demand.integral / span : current;
    const variance = span > 0 ? Math.max(0, this.demand.squares / span - average * average) : 0;
    const stats = { average, stdDev: Math.sqrt(variance), highWater: Math.max(this.demand.highWater, current) };
    this.demand = { since: now, last: now, integral: 0, squares: 0, highWater: current };
    return stats;
  }

  private accumulate(now = performance.now()): void {
    const current = this.executing + this.waitingSeats;
    const dt = now - this.demand.last;
    this.demand.integral += current * dt;
    this.demand.squares += current * current * dt;
    this.demand.last = now;
  }

  private changeWaiting(requests: number, seats: number): void {
    this.accumulate();
    this.waiting += requests;
    this.waitingSeats += seats;
    this.demand.highWater = Math.max(this.demand.highWater, this.executing + this.waitingSeats);
  }

  /** A request wider than the level runs alone; otherwise it needs its seats free. */
  private fits(width: number): boolean {
    return this.executing === 0 || this.executing + width <= this.limit;
  }

  private seat(width: number): Release {
    this.accumulate();
    this.executing += width;
    this.demand.highWater = Math.max(this.demand.highWater, this.executing + this.waitingSeats);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Given back once this turn of the event loop is over (see the file comment).
      setImmediate(() => {
        this.accumulate();
        this.executing -= width;
        this.dispatch();
      });
    };
  }

  /** Hands free seats to waiting requests, one queue at a time in turn; a head that does not fit waits for more seats. */
  private dispatch(): void {
    while (this.waiting > 0) {
      const queue = this.nextQueue();
      if (!queue) return;
      const waiter = queue[0];
      if (!this.fits(waiter.width)) return;
      queue.shift();
      this.cursor = (this.cursor + 1) % this.queues.length;
      waiter.done = true;
      clearTimeout(waiter.timer);
      this.changeWaiting(-1, -waiter.width);
      waiter.admit(this.seat(waiter.width));
    }
  }

  /** The next non-empty queue from the cursor on (the cursor is left on it). */
  private nextQueue(): Waiter[] | undefined {
    for (let scanned = 0; scanned < this.queues.length; scanned++) {
      const queue = this.queues[this.cursor];
      if (queue.length > 0) return queue;
      this.cursor = (this.cursor + 1) % this.queues.length;
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
