/**
 * The controller manager (kube-controller-manager, in process): starts each enabled controller
 * with its own identity, its own event source and its worker count, over the process's shared
 * informers. `--controllers` selects them as kcm's flag does: `*` for the defaults, `name` to add,
 * `-name` to leave out; names are upstream's (`deployment-controller`), short aliases accepted
 * (`deployment`).
 */
import type { Registry as MetricsRegistry } from 'prom-client';
import type { ApiClient } from '../client/api-client.js';
import { EventRecorder } from '../client/event-recorder.js';
import type { InformerFactory } from '../client/informer-factory.js';
import { WorkQueue } from '../client/work-queue.js';
import { WorkQueueMetrics } from '../client/work-queue-metrics.js';
import type { UserInfo } from '../auth/authenticate.js';
import type { Authorizer } from '../auth/authorization.js';
import { serviceAccountUser } from '../auth/system-users.js';
import { log } from '../server/log.js';

/** What every controller gets when it starts. */
export interface ControllerContext {
  /** The API, as this controller's own service account (`system:serviceaccount:kube-system:<name>`). */
  client: ApiClient;
  /** The process's shared informers: read through them, never list the API per event. */
  informers: InformerFactory;
  /** Events about the objects it manages, from this controller as their source. */
  events: EventRecorder;
  /** Concurrent reconciles (its `--concurrent-*-syncs` flag, or its default). */
  workers: number;
  /** A work queue named after the controller, with workqueue_* metrics. */
  newQueue(name?: string): WorkQueue;
  /** The server's metrics registry, for a controller's own families (upstream's names). */
  metrics: MetricsRegistry;
  /** Settings shared by controllers (grace periods, thresholds …). */
  settings: ControllerSettings;
  /** The server's authorizer, for controllers that ask access reviews (csrapproving's SubjectAccessReview). */
  authorizer?: Authorizer;
}

/** Tunables upstream exposes as kcm flags, with upstream's defaults where they exist. */
export interface ControllerSettings {
  [name: string]: number | string | boolean | undefined;
}

/**
 * A kcm flag a controller reads from its settings (e.g. --node-monitor-grace-period). Durations
 * are given as Go durations ("40s", "5m", "100ms") and kept in milliseconds.
 */
export interface ControllerFlag {
  /** The flag without dashes, as upstream spells it. */
  name: string;
  kind: 'duration' | 'integer' | 'number';
  /** Upstream's default (milliseconds for a duration). */
  default: number;
  description: string;
}

/** Parses a flag's value ("40s", "1m30s", "250ms", "12500", "0.1"); undefined when malformed. */
export function parseControllerFlag(flag: ControllerFlag, text: string): number | undefined {
  if (flag.kind === 'duration') {
    if (text === '0') return 0;
    const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    let total = 0;
    let rest = text;
    while (rest.length > 0) {
      const match = rest.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)/);
      if (!match) return undefined;
      total += Number(match[1]) * units[match[2]];
      rest = rest.slice(match[0].length);
    }
    return text.length > 0 ? Math.round(total) : undefined;
  }
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) return undefined;
  if (flag.kind === 'integer' && !Number.isInteger(value)) return undefined;
  return value;
}

export interface RunningController {
  stop(): Promise<void> | void;
}

export interface ControllerDefinition {
  /** Upstream's name, e.g. "deployment-controller". */
  name: string;
  /** Short names `--controllers` also accepts, e.g. "deployment". */
  aliases?: string[];
  /** The service account it acts as in kube-system (upstream's, e.g. "deployment-controller"). */
  serviceAccount: string;
  /** The component its events name, where upstream's differs from its name (e.g. "replication-controller"). */
  eventSource?: string;
  /** Its worker-count flag without dashes, e.g. "concurrent-deployment-syncs", and its default. */
  workersFlag?: { name: string; default: number };
  /** The kcm flags it reads from `settings` (filled with their defaults when not given). */
  flags?: readonly ControllerFlag[];
  /** Off unless named in --controllers (upstream has a few such). */
  disabledByDefault?: boolean;
  start(context: ControllerContext): RunningController | Promise<RunningController>;
}

export interface ControllerManagerOptions {
  /** Builds a client acting as `user`, writing with the given field manager. */
  clientFor(user: UserInfo, fieldManager: string): ApiClient;
  informers: InformerFactory;
  metrics: MetricsRegistry;
  /** The --controllers list (default ["*"]). */
  selection?: readonly string[];
  /** Worker counts by flag name, from the command line. */
  workers?: Readonly<Record<string, number>>;
  settings?: ControllerSettings;
  /** Host recorded as the events' source (the process's hostname). */
  host?: string;
  authorizer?: Authorizer;
}

/** Upstream's field manager for everything kcm writes. */
const FIELD_MANAGER = 'kube-controller-manager';

export class ControllerManager {
  private readonly running: Array<{ name: string; controller: RunningController }> = [];

  constructor(private readonly definitions: readonly ControllerDefinition[], private readonly options: ControllerManagerOptions) {}

  /** Names of the controllers `--controllers` selects, in definition order; throws on an unknown name. */
  static enabled(definitions: readonly ControllerDefinition[], selection: readonly string[] = ['*']): ControllerDefinition[] {
    const byName = new Map<string, ControllerDefinition>();
    for (const definition of definitions) for (const name of [definition.name, ...(definition.aliases ?? [])]) byName.set(name, definition);
    const on = new Set<ControllerDefinition>();
    const off = new Set<ControllerDefinition>();
    let star = false;
    for (const raw of selection) {
      const entry = raw.trim();
      if (entry === '') continue;
      if (entry === '*') {
        star = true;
        continue;
      }
      const negated = entry.startsWith('-');
      const definition = byName.get(negated ? entry.slice(1) : entry);
      if (!definition) throw new Error(`--controllers: unknown controller ${JSON.stringify(entry)}; known: ${definitions.map((d) => d.name).join(', ')}`);
      (negated ? off : on).add(definition);
    }
    return definitions.filter((d) => !off.has(d) && (on.has(d) || (star && !d.disabledByDefault)));
  }

  /**
   * Starts every enabled controller at once, as kcm does: each registers its handlers and
   * indexes before its first wait, in the same turn, so a shared informer gives its cache (its
   * first list, or one replay of it when it is full already) once to all of them, each object
   * parsed once, instead of once more to each controller that started later. A controller that
   * cannot start fails the start; the ones that did are kept, for stop().
   */
  async start(): Promise<void> {
    const { informers, metrics } = this.options;
    const queueMetrics = WorkQueueMetrics.in(metrics);
    const enabled = ControllerManager.enabled(this.definitions, this.options.selection);
    const started = await Promise.allSettled(enabled.map(async (definition) => definition.start(this.contextFor(definition, queueMetrics))));
    started.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') this.running.push({ name: enabled[i].name, controller: outcome.value });
    });
    const failed = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    informers.start();
    log.info('controllers started', { controllers: this.running.map((r) => r.name) });
  }

  private contextFor(definition: ControllerDefinition, queueMetrics: WorkQueueMetrics): ControllerContext {
    const { informers, metrics } = this.options;
    const client = this.options.clientFor(serviceAccountUser('kube-system', definition.serviceAccount), FIELD_MANAGER);
    const flag = definition.workersFlag;
    return {
      client,
      informers,
      events: new EventRecorder(client, { component: definition.eventSource ?? definition.name, host: this.options.host }),
      workers: flag ? (this.options.workers?.[flag.name] ?? flag.default) : 1,
      newQueue: (name = definition.name) => new WorkQueue(name, { metrics: queueMetrics }),
      metrics,
      authorizer: this.options.authorizer,
      settings: { ...Object.fromEntries((definition.flags ?? []).map((f) => [f.name, f.default])), ...this.options.settings },
    };
  }

  async stop(): Promise<void> {
    for (const { controller } of this.running.splice(0).reverse()) await controller.stop();
  }
}
