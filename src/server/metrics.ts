/**
 * The process's metrics, one prom-client Registry rendered on /metrics in Prometheus text format.
 * The API server's families carry upstream's names, labels, help and buckets
 * (k8s.io/apiserver/pkg/endpoints/metrics); storage follows etcd's (WAL fsync, snapshot, db size)
 * under nautilus_; process_* and nodejs_* (event-loop lag) come from prom-client's default
 * collectors. Other components register their own families (workqueue_*, scheduler_*) in
 * `registry`.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { CounterFamily, exponentialBuckets, GaugeFamily, HistogramFamily } from './metric-families.js';
import type { RequestInfo } from './request-info.js';
import { parsedObjects } from '../storage/store.js';

/** Labels of the request families, in the order their values are passed. */
const REQUEST_LABELS = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;
const REQUEST_DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];
const RESPONSE_SIZE_BUCKETS = exponentialBuckets(1000, 10, 8);
const WATCH_EVENT_SIZE_BUCKETS = exponentialBuckets(1024, 2, 8);
const WAL_FSYNC_BUCKETS = exponentialBuckets(0.001, 2, 14);
const SNAPSHOT_BUCKETS = exponentialBuckets(0.01, 2, 14);
const COMPONENT = 'apiserver';
/** Verbs as upstream reports them; anything else is "other". */
const REPORTED_VERBS = new Set(['APPLY', 'CONNECT', 'CREATE', 'DELETE', 'DELETECOLLECTION', 'GET', 'LIST', 'PATCH', 'POST', 'PROXY', 'PUT', 'UPDATE', 'WATCH']);
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy', 'log']);
/** Non-resource paths that keep their path as the subresource label (bounded cardinality). */
const NAMED_PATHS = new Set(['/healthz', '/livez', '/readyz', '/metrics', '/version', '/api', '/apis', '/openapi/v2', '/openapi/v3', '/attestation', '/ui']);

/** The label values of one request, in REQUEST_LABELS order. */
export type RequestLabelValues = readonly string[];

/**
 * Upstream's reported verb, scope and dry-run value for a request (CanonicalVerb, cleanVerb,
 * CleanScope, cleanDryRun): GET of a collection is LIST, ?watch=true is WATCH, an apply patch is
 * APPLY, exec/attach/portforward/proxy are CONNECT.
 */
export function requestLabelValues(info: RequestInfo, method: string, query: URLSearchParams, contentType: string | undefined): RequestLabelValues {
  if (!info.isResourceRequest) {
    const path = info.path.startsWith('/ui/') ? '/ui' : info.path;
    return [reportedVerb(method === 'HEAD' ? 'GET' : method), '', '', '', '', NAMED_PATHS.has(path) ? path : '', '', COMPONENT];
  }
  const scope = info.name || info.verb === 'create' ? 'resource' : info.namespace ? 'namespace' : 'cluster';
  let verb = method === 'HEAD' ? 'GET' : method;
  if (verb === 'GET' && scope !== 'resource') verb = 'LIST';
  if (info.verb === 'watch') verb = 'WATCH';
  if (verb === 'PATCH' && contentType?.split(';')[0].trim() === 'application/apply-patch+yaml') verb = 'APPLY';
  if (info.subresource && CONNECT_SUBRESOURCES.has(info.subresource)) verb = 'CONNECT';
  const dryRun = [...new Set(query.getAll('dryRun').filter((value) => value === 'All'))].sort().join(',');
  return [reportedVerb(verb), dryRun, info.group, info.version, info.resource ?? '', info.subresource ?? '', scope, COMPONENT];
}

function reportedVerb(verb: string): string {
  return REPORTED_VERBS.has(verb) ? verb : 'other';
}

/** Long-running as upstream's BasicLongRunningRequestCheck: watches, proxies, exec/attach/log/portforward. */
export function isLongRunning(info: RequestInfo): boolean {
  return info.isResourceRequest && (info.verb === 'watch' || info.verb === 'proxy' || (info.subresource !== undefined && LONG_RUNNING_SUBRESOURCES.has(info.subresource)));
}

type RequestKind = 'readOnly' | 'mutating';

/** The highest concurrency seen since the last scrape, as upstream's watermark reports it. */
class Watermark {
  current = 0;
  high = 0;

  enter(): void {
    this.current++;
    if (this.current > this.high) this.high = this.current;
  }

  leave(): void {
    this.current--;
  }

  /** The high-water mark since the last read; the next period starts at the current value. */
  read(): number {
    const high = this.high;
    this.high = this.current;
    return high;
  }
}

export interface StorageObjectCount {
  /** Upstream's resource label: plural, plus ".group" outside the core group. */
  resource: string;
  objects: number;
  bytes: number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requestTotal: CounterFamily;
  private readonly requestDuration: HistogramFamily;
  private readonly responseSizes: HistogramFamily;
  private readonly longRunning: GaugeFamily;
  private readonly watchEvents: CounterFamily;
  private readonly watchEventSizes: HistogramFamily;
  private readonly walFsync: HistogramFamily;
  private readonly snapshotDuration: HistogramFamily;
  private readonly inflight: Record<RequestKind, Watermark> = { readOnly: new Watermark(), mutating: new Watermark() };
  private readonly gauges = new Map<string, Map<string, () => number>>();
  private lastSnapshot: { revision: number; at: number; seconds: number } | undefined;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registry = this.registry;
    this.requestTotal = new CounterFamily(
      'apiserver_request_total',
      'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
      [...REQUEST_LABELS, 'code'],
      registry,
    );
    this.requestDuration = new HistogramFamily(
      'apiserver_request_duration_seconds',
      'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
      REQUEST_LABELS,
      REQUEST_DURATION_BUCKETS,
      registry,
    );
    this.responseSizes = new HistogramFamily(
      'apiserver_response_sizes',
      'Response size distribution in bytes for each group, version, verb, resource, subresource, scope and component.',
      ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
      RESPONSE_SIZE_BUCKETS,
      registry,
    );
    this.longRunning = new GaugeFamily(
      'apiserver_longrunning_requests',
      'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
      ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
      registry,
    );
    const inflight = this.inflight;
    new Gauge({
      name: 'apiserver_current_inflight_requests',
      help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
      labelNames: ['request_kind'],
      registers: [registry],
      collect() {
        this.set({ request_kind: 'readOnly' }, inflight.readOnly.read());
        this.set({ request_kind: 'mutating' }, inflight.mutating.read());
      },
    });
    this.watchEvents = new CounterFamily('apiserver_watch_events_total', 'Number of events sent in watch clients', ['group', 'version', 'kind'], registry);
    this.watchEventSizes = new HistogramFamily('apiserver_watch_events_sizes', 'Watch event size distribution in bytes', ['group', 'version', 'kind'], WATCH_EVENT_SIZE_BUCKETS, registry);
    this.walFsync = new HistogramFamily(
      'nautilus_wal_fsync_duration_seconds',
      'The latency distributions of fdatasync called by the sealed write-ahead log (etcd_disk_wal_fsync_duration_seconds).',
      [],
      WAL_FSYNC_BUCKETS,
      registry,
    );
    this.snapshotDuration = new HistogramFamily(
      'nautilus_snapshot_duration_seconds',
      'The latency distribution of writing a sealed snapshot of the whole state (etcd_debugging_snap_save_total_duration_seconds).',
      [],
      SNAPSHOT_BUCKETS,
      registry,
    );
    const lastSnapshot = () => this.lastSnapshot;
    new Gauge({
      name: 'nautilus_snapshot_last_revision',
      help: 'Revision of the newest snapshot written since start (0: none yet).',
      registers: [registry],
      collect() {
        this.set(lastSnapshot()?.revision ?? 0);
      },
    });
    new Gauge({
      name: 'nautilus_snapshot_last_timestamp_seconds',
      help: 'Unix time the newest snapshot was written (0: none since start).',
      registers: [registry],
      collect() {
        this.set((lastSnapshot()?.at ?? 0) / 1000);
      },
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  }

  /** A request arrived (before authentication); the returned function says it was answered or became long-running. */
  requestStarted(method: string): () => void {
    const watermark = method === 'GET' || method === 'HEAD' ? this.inflight.readOnly : this.inflight.mutating;
    watermark.enter();
    let left = false;
    return () => {
      if (!left) watermark.leave();
      left = true;
    };
  }

  requestFinished(labels: RequestLabelValues, code: number, seconds: number, responseBytes: number): void {
    this.requestTotal.inc([...labels, String(code)]);
    this.requestDuration.observe(labels, seconds);
    const verb = labels[0];
    if (verb === 'GET' || verb === 'LIST' || verb === 'WATCH') this.responseSizes.observe(withoutDryRun(labels), responseBytes);
  }

  /** A long-running request (watch, exec …) started streaming; the returned function says it ended. */
  longRunningStarted(labels: RequestLabelValues): () => void {
    const values = withoutDryRun(labels);
    this.longRunning.add(values, 1);
    return () => this.longRunning.add(values, -1);
  }

  watchEventSent(group: string, version: string, kind: string, bytes: number): void {
    const values = [group, version, kind];
    this.watchEvents.inc(values);
    this.watchEventSizes.observe(values, bytes);
  }

  walSynced(seconds: number): void {
    this.walFsync.observe([], seconds);
  }

  snapshotWritten(revision: number, seconds: number): void {
    this.snapshotDuration.observe([], seconds);
    this.lastSnapshot = { revision, at: Date.now(), seconds };
  }

  /** The newest snapshot since start, for the status page. */
  get snapshot(): { revision: number; at: number; seconds: number } | undefined {
    return this.lastSnapshot;
  }

  /** apiserver_storage_objects and nautilus_storage_bytes, read at scrape time. */
  storageObjects(read: () => Iterable<StorageObjectCount>): void {
    new Gauge({
      name: 'apiserver_storage_objects',
      help: 'Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.',
      labelNames: ['resource'],
      registers: [this.registry],
      collect() {
        for (const { resource, objects } of read()) this.set({ resource }, objects);
      },
    });
    new Gauge({
      name: 'nautilus_storage_bytes',
      help: 'Bytes of serialized objects held in memory, by resource.',
      labelNames: ['resource'],
      registers: [this.registry],
      collect() {
        for (const { resource, bytes } of read()) this.set({ resource }, bytes);
      },
    });
    new Gauge({
      name: 'nautilus_storage_object_parses',
      help: 'Times a stored version was parsed from its bytes since start (its parsed form is not kept: a read after it was collected parses again).',
      registers: [this.registry],
      collect() {
        this.set(parsedObjects.parses);
      },
    });
  }

  /** A gauge value read at scrape time, named with its labels: `name{label="value"}`. */
  gauge(nameWithLabels: string, read: () => number): void {
    const brace = nameWithLabels.indexOf('{');
    const name = brace < 0 ? nameWithLabels : nameWithLabels.slice(0, brace);
    let series = this.gauges.get(name);
    if (!series) {
      const all = (series = new Map());
      this.gauges.set(name, series);
      const labelNames = brace < 0 ? [] : [...nameWithLabels.slice(brace).matchAll(/(\w+)="/g)].map((m) => m[1]);
      new Gauge({
        name,
        help: `${name.replace(/_/g, ' ')}.`,
        labelNames,
        registers: [this.registry],
        collect() {
          for (const [labels, value] of all) this.set(parseLabels(labels), value());
        },
      });
    }
    series.set(brace < 0 ? '' : nameWithLabels.slice(brace), read);
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}

function withoutDryRun(labels: RequestLabelValues): string[] {
  return [labels[0], ...labels.slice(2)];
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1]] = match[2].replace(/\\(.)/g, '$1');
  return labels;
}
