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
}

/** What happens to requests, by priority level and flow schema (for upstream's apiserver_flowcontrol_* metrics). */
export interface FlowControlObserver {
  waiting(priorityLevel: string, flowSchema: string, delta: number): void;
  executing(priorityLevel: string, flowSchema: string, delta: number): void;
  dispatched(priorityLevel: string, flowSchema: string, waitSeconds: number): void;
  rejected(priorityLevel: string, flowSchema: string, reason: Rejected['reason'], waitSeconds: number): void;
}

export interface PriorityAndFairnessOptions {
  /** --max-requests-inflight + --max-mutating-requests-inflight. */
  serverConcurrencyLimit: number;
  maxWaitMs?: number;
  observer?: FlowControlObserver;
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

  async start(): Promise<void> {
    await Promise.all([this.flowSchemaInformer.start(), this.priorityLevelInformer.start()]);
    this.dirty = true;
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
  async admit(info: RequestInfo, user: UserInfo, onCancel?: (withdraw: () => void) => void): Promise<Admission> {
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
    const executing = (release: Release): Release => {
      if (!observer) return release;
      observer.dispatched(level, schema, seconds());
      observer.executing(level, schema, 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        observer.executing(level, schema, -1);
        release();
      };
    };
    if (!queueSet) return { admitted: true, release: executing(() => {}), headers };
    observer?.waiting(level, schema, 1);
    try {
      const release = await queueSet.acquire(classification.flowKey, onCancel);
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
  levelStates(): Array<{ name: string; concurrencyLimit: number; executing: number; waiting: number }> {
    if (this.dirty) this.rebuild();
    return [...this.levels.values()].map((level) => ({
      name: level.object.metadata.name!,
      concurrencyLimit: level.queueSet?.concurrencyLimit ?? Infinity,
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
    const limited = levelObjects.filter((level) => level.spec?.type === 'Limited');
    const totalShares = limited.reduce((sum, level) => sum + (level.spec.limited?.nominalConcurrencyShares ?? 30), 0);
    const next = new Map<string, Level>();
    for (const object of levelObjects) {
      const name = object.metadata.name!;
      if (object.spec?.type !== 'Limited') {
        next.set(name, { object, signature: 'exempt' });
        continue;
      }
      const shares = object.spec.limited?.nominalConcurrencyShares ?? 30;
      const concurrencyLimit = Math.max(1, Math.ceil((this.options.serverConcurrencyLimit * shares) / Math.max(1, totalShares)));
      const response = object.spec.limited?.limitResponse;
      const queuing = response?.type === 'Queue' ? response.queuing : undefined;
      const signature = JSON.stringify([concurrencyLimit, queuing ?? null]);
      const previous = this.levels.get(name);
      // Unchanged levels keep their queues (and whoever waits in them).
      const queueSet = previous?.signature === signature && previous.queueSet ? previous.queueSet : new QueueSet({ concurrencyLimit, queuing, maxWaitMs: this.options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS });
      next.set(name, { object, queueSet, signature });
    }
    this.levels = next;
  }

  private fallbackCatchAll?: Level;
  private fallbackLevel(): Level {
    return (this.fallbackCatchAll ??= {
      object: MANDATORY_PRIORITY_LEVELS[1],
      signature: 'fallback',
      queueSet: new QueueSet({ concurrencyLimit: Math.max(1, Math.ceil(this.options.serverConcurrencyLimit / 50)), maxWaitMs: 0 }),
    });
  }
}
