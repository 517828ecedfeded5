/**
 * API Priority and Fairness (upstream's WithPriorityAndFairness filter): each request is
 * classified by the FlowSchemas (lowest matchingPrecedence, then name, first match), runs under
 * the PriorityLevelConfiguration the schema names, and waits for one of that level's seats in a
 * fair queue of its flow (schema + distinguisher). The server's concurrency (the two max-inflight
 * flags summed) is shared among Limited levels by their nominalConcurrencyShares; Exempt levels
 * run at once. Long-running requests (watch, exec, attach, port-forward, logs, proxy) are not
 * held. The configuration is read from shared informers and rebuilt when it changes.
 */
import type { UserInfo } from '../auth/authenticate.js';
import type { InformerFactory } from '../client/informer-factory.js';
import type { SharedInformer } from '../client/informer.js';
import { FLOW_SCHEMAS, PRIORITY_LEVEL_CONFIGURATIONS } from '../client/resource-types.js';
import type { Obj } from '../registry/strategy.js';
import type { RequestInfo } from '../server/request-info.js';
import { MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS, SUGGESTED_FLOW_SCHEMAS, SUGGESTED_PRIORITY_LEVELS } from './bootstrap-configuration.js';
import { flowDistinguisher, matchesFlowSchema, type RequestDigest } from './classify.js';
import { isLongRunning } from './long-running.js';
import { QueueSet, Rejected, type Release } from './queue-set.js';
import { ADJUST_PERIOD_MS, allocateSeats, levelBounds, seatTarget, smoothSeatDemand, type LevelBounds } from './borrowing.js';
import { estimateSeats, type ObjectCounter } from './work-estimator.js';

/** Upstream waits at most a quarter of the default 60 s request timeout for a seat. */
const DEFAULT_MAX_WAIT_MS = 15_000;

export const FLOW_SCHEMA_UID_HEADER = 'X-Kubernetes-PF-FlowSchema-UID';
export const PRIORITY_LEVEL_UID_HEADER = 'X-Kubernetes-PF-PriorityLevel-UID';

export interface Classification {
  flowSchema: Obj;
  priorityLevel: Obj;
  flowKey: string;
}

/** The outcome for one request: run it (and release afterwards), or it was rejected. */
export type Admission = { admitted: true; release: Release; headers: Record<string, string> } | { admitted: false; reason: Rejected['reason']; headers: Record<string, string> };

interface Level {
  object: Obj;
  /** Absent for Exempt levels. */
  queueSet?: QueueSet;
  signature: string;
  /** Limited levels: nominal, lendable and borrowing limits. */
  bounds?: LevelBounds;
  /** Smoothed seat demand and the target derived from it (borrowing). */
  smoothedDemand: number;
  target: number;
}

/** One Limited level's limits after an adjustment (upstream's *_limit_seats, target and demand gauges). */
export interface SeatLimits {
  nominal: number;
  lower: number;
  upper: number;
  current: number;
  target: number;
  demand: { average: number; stdDev: number; highWater: number; smoothed: number };
}

/** What happens to requests, by priority level and flow schema (for upstream's apiserver_flowcontrol_* metrics). */
export interface FlowControlObserver {
  waiting(priorityLevel: string, flowSchema: string, delta: number): void;
  executing(priorityLevel: string, flowSchema: string, delta: number): void;
  dispatched(priorityLevel: string, flowSchema: string, waitSeconds: number): void;
  rejected(priorityLevel: string, flowSchema: string, reason: Rejected['reason'], waitSeconds: number): void;
  /** After each borrowing adjustment (and at rebuild): every Limited level's limits, and the fair proportion. */
  seatLimits?(limits: Map<string, SeatLimits>, fairProp: number): void;
  /** Seats a dispatched request occupies (its work estimate). */
  seats?(priorityLevel: string, flowSchema: string, delta: number): void;
}

export interface PriorityAndFairnessOptions {
  /** --max-requests-inflight + --max-mutating-requests-inflight. */
  serverConcurrencyLimit: number;
  maxWaitMs?: number;
  observer?: FlowControlObserver;
  /** Stored objects of a resource, for the seats of a LIST (work estimate); absent: every request 1 seat. */
  countObjects?: ObjectCounter;
  /** How often borrowing recomputes the levels' limits (upstream: 10 s); 0: only when adjustLimits() is called. */
  adjustPeriodMs?: number;
}

export class PriorityAndFairness {
  private schemas: Obj[] = [];
  private levels = new Map<string, Level>();
  private dirty = true;
  private readonly flowSchemaInformer: SharedInformer;
  private readonly priorityLevelInformer: SharedInformer;

  constructor(informers: InformerFactory, private readonly options: PriorityAndFairnessOptions) {
    this.flowSchemaInformer = informers.informer(FLOW_SCHEMAS);
    this.priorityLevelInformer = informers.informer(PRIORITY_LEVEL_CONFIGURATIONS);
    const invalidate = { onAdd: () => (this.dirty = true), onUpdate: () => (this.dirty = true), onDelete: () => (this.dirty = true) };
    this.flowSchemaInformer.addEventHandler(invalidate);
    this.priorityLevelInformer.addEventHandler(invalidate);
  }

  private adjuster?: NodeJS.Timeout;

  async start(): Promise<void> {
    await Promise.all([this.flowSchemaInformer.start(), this.priorityLevelInformer.start()]);
    this.dirty = true;
    const period = this.options.adjustPeriodMs ?? ADJUST_PERIOD_MS;
    if (period > 0 && !this.adjuster) {
      this.adjuster = setInterval(() => this.adjustLimits(), period);
      this.adjuster.unref();
    }
  }

  stop(): void {
    clearInterval(this.adjuster);
    this.adjuster = undefined;
  }

  /**
   * Borrowing: from each Limited level's seat demand since the last call, its smoothed demand and
   * target, then the server's seats shared among the levels within their lower and upper limits.
   */
  adjustLimits(): Map<string, SeatLimits> {
    if (this.dirty) this.rebuild();
    const limited = [...this.levels.values()].filter((level) => level.queueSet && level.bounds);
    const demands = new Map<Level, { average: number; stdDev: number; highWater: number }>();
    for (const level of limited) {
      const stats = level.queueSet!.demandStats();
      demands.set(level, stats);
      level.smoothedDemand = smoothSeatDemand(level.smoothedDemand, stats);
      level.target = seatTarget(level.bounds!, level.smoothedDemand);
    }
    const allocation = allocateSeats(this.options.serverConcurrencyLimit, limited.map((level) => ({ lower: level.bounds!.lower, upper: level.bounds!.upper, target: level.target })));
    limited.forEach((level, i) => level.queueSet!.setConcurrencyLimit(allocation.limits[i]));
    return this.reportLimits(limited, allocation.fairProp, demands);
  }

  private reportLimits(limited: Level[], fairProp: number, demands?: Map<Level, { average: number; stdDev: number; highWater: number }>): Map<string, SeatLimits> {
    const report = new Map<string, SeatLimits>();
    for (const level of limited) {
      const stats = demands?.get(level) ?? { average: 0, stdDev: 0, highWater: 0 };
      report.set(level.object.metadata.name!, { nominal: level.bounds!.nominal, lower: level.bounds!.lower, upper: level.bounds!.upper, current: level.queueSet!.concurrencyLimit, target: level.target, demand: { ...stats, smoothed: level.smoothedDemand } });
    }
    this.options.observer?.seatLimits?.(report, fairProp);
    return report;
  }

  /** The schema, level and flow of a request (exposed for tests and audit). */
  classify(digest: RequestDigest): Classification {
    if (this.dirty) this.rebuild();
    for (const schema of this.schemas) {
      const level = this.levels.get(schema.spec?.priorityLevelConfiguration?.name);
      if (!level) continue; // dangling: ignored, as upstream
      if (!matchesFlowSchema(schema, digest)) continue;
      return { flowSchema: schema, priorityLevel: level.object, flowKey: `${schema.metadata.name}\u0000${flowDistinguisher(schema, digest)}` };
    }
    // No match (the mandatory catch-all was deleted and not restored yet): upstream's catch-all.
    const catchAll = this.levels.get('catch-all') ?? this.fallbackLevel();
    return { flowSchema: MANDATORY_FLOW_SCHEMAS[1], priorityLevel: catchAll.object, flowKey: `catch-all\u0000${digest.user.name}` };
  }

  /** Holds the request until its level has a seat for it, or refuses it. */
  async admit(info: RequestInfo, user: UserInfo, onCancel?: (withdraw: () => void) => void, query?: URLSearchParams): Promise<Admission> {
    if (isLongRunning(info)) return { admitted: true, release: () => {}, headers: {} };
    const classification = this.classify({ user, info });
    const headers: Record<string, string> = {};
    if (classification.flowSchema.metadata.uid) headers[FLOW_SCHEMA_UID_HEADER.toLowerCase()] = classification.flowSchema.metadata.uid;
    if (classification.priorityLevel.metadata.uid) headers[PRIORITY_LEVEL_UID_HEADER.toLowerCase()] = classification.priorityLevel.metadata.uid;
    const queueSet = this.levels.get(classification.priorityLevel.metadata.name!)?.queueSet ?? (classification.priorityLevel.spec?.type === 'Exempt' ? undefined : this.fallbackLevel().queueSet);
    const observer = this.options.observer;
    const level = classification.priorityLevel.metadata.name!;
    const schema = classification.flowSchema.metadata.name!;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    // Executing from dispatch until the handler releases (once).
    const width = queueSet ? Math.min(estimateSeats(info, query, this.options.countObjects), queueSet.concurrencyLimit) : 1;
    const executing = (release: Release): Release => {
      if (!observer) return release;
      observer.dispatched(level, schema, seconds());
      observer.executing(level, schema, 1);
      observer.seats?.(level, schema, width);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        observer.executing(level, schema, -1);
        observer.seats?.(level, schema, -width);
        release();
      };
    };
    if (!queueSet) return { admitted: true, release: executing(() => {}), headers };
    observer?.waiting(level, schema, 1);
    try {
      const release = await queueSet.acquire(classification.flowKey, onCancel, width);
      observer?.waiting(level, schema, -1);
      return { admitted: true, release: executing(release), headers };
    } catch (error) {
      observer?.waiting(level, schema, -1);
      if (error instanceof Rejected) {
        observer?.rejected(level, schema, error.reason, seconds());
        return { admitted: false, reason: error.reason, headers };
      }
      throw error;
    }
  }

  /** Seats and waiting requests by priority level (for metrics and tests). */
  levelStates(): Array<{ name: string; concurrencyLimit: number; nominalLimit: number; executing: number; waiting: number }> {
    if (this.dirty) this.rebuild();
    return [...this.levels.values()].map((level) => ({
      name: level.object.metadata.name!,
      concurrencyLimit: level.queueSet?.concurrencyLimit ?? Infinity,
      nominalLimit: level.bounds?.nominal ?? Infinity,
      executing: level.queueSet?.executingCount ?? 0,
      waiting: level.queueSet?.waitingCount ?? 0,
    }));
  }

  private rebuild(): void {
    this.dirty = false;
    // Until the informers hold the stored configuration (and it was bootstrapped), the bootstrap one applies.
    const synced = this.flowSchemaInformer.hasSynced && this.priorityLevelInformer.hasSynced && this.priorityLevelInformer.lister.size > 0;
    const levelObjects = synced ? this.priorityLevelInformer.lister.list() : [...MANDATORY_PRIORITY_LEVELS, ...SUGGESTED_PRIORITY_LEVELS];
    const schemaObjects = synced ? this.flowSchemaInformer.lister.list() : [...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS];
    this.schemas = [...schemaObjects].sort((a, b) => (a.spec?.matchingPrecedence ?? 1000) - (b.spec?.matchingPrecedence ?? 1000) || a.metadata.name!.localeCompare(b.metadata.name!));
    // Upstream sums the shares of Exempt levels too (0 by default).
    const totalShares = levelObjects.reduce((sum, level) => sum + (level.spec?.type === 'Limited' ? (level.spec.limited?.nominalConcurrencyShares ?? 30) : (level.spec?.exempt?.nominalConcurrencyShares ?? 0)), 0);
    const next = new Map<string, Level>();
    for (const object of levelObjects) {
      const name = object.metadata.name!;
      if (object.spec?.type !== 'Limited') {
        next.set(name, { object, signature: 'exempt', smoothedDemand: 0, target: 0 });
        continue;
      }
      const spec = object.spec.limited ?? {};
      const bounds = levelBounds(this.options.serverConcurrencyLimit, spec.nominalConcurrencyShares ?? 30, totalShares, spec.lendablePercent ?? 0, spec.borrowingLimitPercent ?? undefined);
      const response = spec.limitResponse;
      const queuing = response?.type === 'Queue' ? response.queuing : undefined;
      const signature = JSON.stringify([bounds, queuing ?? null]);
      const previous = this.levels.get(name);
      // Unchanged levels keep their queues (and whoever waits in them) and their borrowed seats.
      if (previous?.signature === signature && previous.queueSet) {
        next.set(name, { ...previous, object });
        continue;
      }
      const queueSet = new QueueSet({ concurrencyLimit: bounds.nominal, queuing, maxWaitMs: this.options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS });
      next.set(name, { object, queueSet, signature, bounds, smoothedDemand: 0, target: bounds.nominal });
    }
    this.levels = next;
    this.reportLimits([...next.values()].filter((level) => level.queueSet && level.bounds), 1);
  }

  private fallbackCatchAll?: Level;
  private fallbackLevel(): Level {
    return (this.fallbackCatchAll ??= {
      object: MANDATORY_PRIORITY_LEVELS[1],
      signature: 'fallback',
      smoothedDemand: 0,
      target: 0,
      queueSet: new QueueSet({ concurrencyLimit: Math.max(1, Math.ceil(this.options.serverConcurrencyLimit / 50)), maxWaitMs: 0 }),
    });
  }
}
