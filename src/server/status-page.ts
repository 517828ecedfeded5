/**
 * The read-only status page at /ui/: an HTML page, the uPlot charting library served from the
 * package (no CDN), and /ui/api/summary, the JSON it polls. Authenticated users with a view-level
 * right (list pods in every namespace, as the `view` ClusterRole bound cluster-wide grants) only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { errors } from '../api/status.js';
import type { Authorizer } from '../auth/authorization.js';
import type { Registry } from '../registry/registry.js';
import type { Store } from '../storage/store.js';
import type { Exchange } from './exchange.js';
import type { Metrics } from './metrics.js';
import { diskFootprint, storageObjectCounts } from './storage-metrics.js';

export interface StatusSources {
  registry: Registry;
  store: Store;
  metrics: Metrics;
  authorizer: Authorizer;
  dataDir: string | undefined;
  attestation: () => Record<string, unknown>;
}

const uplotDir = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
const ASSETS: Record<string, { type: string; body: () => Buffer }> = {
  '/ui/uPlot.iife.min.js': { type: 'text/javascript; charset=utf-8', body: once(() => readFileSync(join(uplotDir, 'uPlot.iife.min.js'))) },
  '/ui/uPlot.min.css': { type: 'text/css; charset=utf-8', body: once(() => readFileSync(join(uplotDir, 'uPlot.min.css'))) },
};

function once(read: () => Buffer): () => Buffer {
  let cached: Buffer | undefined;
  return () => (cached ??= read());
}

export async function handleStatusPage(ex: Exchange, path: string, sources: StatusSources): Promise<void> {
  const user = ex.user;
  if (!user || user.name === 'system:anonymous') throw errors.unauthorized();
  const decision = sources.authorizer.authorize({ user, verb: 'list', isResourceRequest: true, group: '', version: 'v1', resource: 'pods' });
  if (!decision.allowed) throw errors.forbidden(`User "${user.name}" cannot view the status page: it needs a view-level right (list pods in all namespaces)`);
  if (ex.method !== 'GET' && ex.method !== 'HEAD') throw errors.methodNotAllowed(ex.method, path);
  const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  if (path === '/ui' || path === '/ui/') return ex.respond(200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'" }, PAGE);
  if (path === '/ui/app.js') return ex.respond(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8' }, APP);
  const asset = ASSETS[path];
  if (asset) return ex.respond(200, { ...headers, 'content-type': asset.type }, asset.body());
  if (path === '/ui/api/summary') return ex.respond(200, { ...headers, 'content-type': 'application/json' }, JSON.stringify(await summary(sources)));
  throw errors.pathNotFound();
}

async function summary(sources: StatusSources): Promise<Record<string, unknown>> {
  const { store, registry, metrics } = sources;
  const counts = storageObjectCounts(registry, store).filter((c) => c.objects > 0);
  const byPhase = (resource: string, read: (o: any) => string) => {
    const phases: Record<string, number> = {};
    for (const item of registry.of('', resource).list(undefined, {}).items) {
      const phase = read(item.object);
      phases[phase] = (phases[phase] ?? 0) + 1;
    }
    return phases;
  };
  const events = registry
    .of('', 'events')
    .list(undefined, {})
    .items.map((i) => i.object as any)
    .sort((a, b) => String(b.lastTimestamp ?? b.eventTime ?? b.metadata.creationTimestamp).localeCompare(String(a.lastTimestamp ?? a.eventTime ?? a.metadata.creationTimestamp)))
    .slice(0, 20)
    .map((e) => ({ type: e.type, reason: e.reason, object: `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`, namespace: e.metadata.namespace, message: e.message, time: e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp }));
  const requests = await metrics.registry.getSingleMetric('apiserver_request_total')?.get();
  const scheduled = await metrics.registry.getSingleMetric('scheduler_schedule_attempts_total')?.get();
  const sum = (values: Array<{ value: number; labels?: Record<string, unknown> }> | undefined, match: (l: Record<string, unknown>) => boolean = () => true) =>
    (values ?? []).filter((v) => match(v.labels ?? {})).reduce((t, v) => t + v.value, 0);
  const durations = await metrics.registry.getSingleMetric('apiserver_request_duration_seconds')?.get();
  const durationValues = (durations?.values ?? []) as Array<{ value: number; metricName?: string; labels?: Record<string, unknown> }>;
  const nonWatch = (l: Record<string, unknown>) => l.verb !== 'WATCH' && l.verb !== 'CONNECT';
  return {
    time: Date.now(),
    attestation: sources.attestation(),
    counts: Object.fromEntries(counts.map((c) => [c.resource, c.objects])),
    namespaces: store.count('core/namespaces'),
    nodes: byPhase('nodes', (n) => (n.status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady')),
    pods: byPhase('pods', (p) => p.status?.phase ?? 'Pending'),
    events,
    requests: { total: sum(requests?.values), seconds: sum(durationValues.filter((v) => v.metricName?.endsWith('_sum')), nonWatch), count: sum(durationValues.filter((v) => v.metricName?.endsWith('_count')), nonWatch) },
    scheduled: sum(scheduled?.values, (l) => l.result === 'scheduled'),
    storage: {
      revision: store.revision,
      bytesInMemory: store.bytes(),
      sealed: sources.dataDir !== undefined,
      ...(sources.dataDir ? await diskFootprint(sources.dataDir) : {}),
      lastSnapshot: metrics.snapshot ?? null,
    },
  };
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Nautilus status</title>
<link rel="stylesheet" href="/ui/uPlot.min.css">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#123}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.2em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1em}
.card{border:1px solid #cde;border-radius:6px;padding:.8em}
table{border-collapse:collapse;width:100%} td,th{text-align:left;padding:2px 6px;border-bottom:1px solid #eef;word-break:break-all}
.big{font-size:1.6em;font-weight:600}
</style></head>
<body>
<h1>Nautilus control plane</h1>
<div class="grid">
 <div class="card"><h2>Cluster</h2>
  <div>Namespaces <span class="big" id="namespaces">–</span></div>
  <div>Nodes <span class="big" id="nodes">–</span> <span id="node-phases"></span></div>
  <div>Pods <span class="big" id="pods">–</span> <span id="pod-phases"></span></div></div>
 <div class="card"><h2>Attestation</h2><table id="attestation"></table></div>
 <div class="card"><h2>Storage</h2><table id="storage"></table></div>
 <div class="card"><h2>Requests per second</h2><div id="rate-chart"></div></div>
 <div class="card"><h2>Mean latency (ms)</h2><div id="latency-chart"></div></div>
 <div class="card"><h2>Pods scheduled per second</h2><div id="sched-chart"></div></div>
 <div class="card"><h2>Objects by kind</h2><table id="counts"></table></div>
 <div class="card" style="grid-column:1/-1"><h2>Recent events</h2><table id="events"></table></div>
</div>
<script src="/ui/uPlot.iife.min.js"></script>
<script src="/ui/app.js"></script>
</body></html>
`;

const APP = `'use strict';
const WINDOW = 300;
const series = { t: [], rate: [], latency: [], sched: [] };
let previous;
function chart(id, label) {
  const el = document.getElementById(id);
  return new uPlot({ width: 300, height: 150, series: [{}, { label, stroke: '#2a6fdb', width: 2 }], axes: [{}, {}] }, [[], []], el);
}
const charts = { rate: chart('rate-chart', 'req/s'), latency: chart('latency-chart', 'ms'), sched: chart('sched-chart', 'pods/s') };
function rows(id, entries) {
  const table = document.getElementById(id);
  table.replaceChildren(...entries.map((cells) => { const tr = document.createElement('tr'); for (const c of cells) { const td = document.createElement('td'); td.textContent = String(c); tr.append(td); } return tr; }));
}
const total = (o) => Object.values(o).reduce((a, b) => a + b, 0);
const phases = (o) => Object.entries(o).map(([k, v]) => k + ' ' + v).join(', ');
async function refresh() {
  const response = await fetch('/ui/api/summary', { cache: 'no-store' });
  if (!response.ok) return;
  const s = await response.json();
  document.getElementById('namespaces').textContent = s.namespaces;
  document.getElementById('nodes').textContent = total(s.nodes);
  document.getElementById('node-phases').textContent = phases(s.nodes);
  document.getElementById('pods').textContent = total(s.pods);
  document.getElementById('pod-phases').textContent = phases(s.pods);
  rows('attestation', Object.entries(s.attestation));
  rows('storage', Object.entries(s.storage).map(([k, v]) => [k, v && typeof v === 'object' ? JSON.stringify(v) : v]));
  rows('counts', Object.entries(s.counts).sort());
  rows('events', s.events.map((e) => [e.time, e.type, e.reason, e.namespace + ' ' + e.object, e.message]));
  if (previous) {
    const dt = (s.time - previous.time) / 1000;
    const dCount = s.requests.count - previous.requests.count;
    series.t.push(s.time / 1000);
    series.rate.push((s.requests.total - previous.requests.total) / dt);
    series.latency.push(dCount > 0 ? ((s.requests.seconds - previous.requests.seconds) / dCount) * 1000 : 0);
    series.sched.push((s.scheduled - previous.scheduled) / dt);
    for (const k of Object.keys(series)) if (series[k].length > WINDOW) series[k].shift();
    charts.rate.setData([series.t, series.rate]);
    charts.latency.setData([series.t, series.latency]);
    charts.sched.setData([series.t, series.sched]);
  }
  previous = s;
  document.body.dataset.updated = String(s.time);
}
refresh();
setInterval(refresh, 1000);
`;
