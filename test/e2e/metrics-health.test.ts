/**
 * /metrics scraped through kubectl and parsed strictly: every family has HELP and TYPE, the
 * apiserver_* families carry upstream's labels, counters move with requests (2xx, 4xx codes),
 * watches show as long-running while open and as watch events; /livez and /readyz list named checks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, rawClient, startServer, type TestServer } from './harness.js';
import { parsePrometheusText, sumOf, type Family } from './prometheus-text.js';

describe('the strict Prometheus text parser', () => {
  it('reads a well-formed exposition', () => {
    const families = parsePrometheusText(
      '# HELP a_total A counter.\n# TYPE a_total counter\na_total{x="1",y="q\\"uote"} 3\n\n' +
        '# HELP h A histogram.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\n',
    );
    assert.equal(sumOf(families, 'a_total', { y: 'q"uote' }), 3);
    assert.equal(sumOf(families, 'h', {}, 'h_count'), 2);
  });

  it('refuses what a scraper could misread', () => {
    const bad = [
      'a 1\n', // no TYPE
      '# TYPE a gauge\na 1', // no final newline
      '# TYPE a gauge\n# TYPE a gauge\na 1\n',
      '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n', // family split
      '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n', // duplicate series
      '# TYPE a gauge\na{x=1} 1\n',
      '# TYPE a gauge\na one\n',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', // no +Inf
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
    ];
    for (const text of bad) assert.throws(() => parsePrometheusText(text), Error, JSON.stringify(text));
  });
});

describe('/metrics, /livez and /readyz', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  const scrape = async (): Promise<Map<string, Family>> => parsePrometheusText(await server.ok(['get', '--raw', '/metrics']));

  it('every family has HELP and TYPE, and the expected families are there', async () => {
    const families = await scrape();
    for (const family of families.values()) {
      assert.ok(family.help !== undefined && family.help.length > 0, `${family.name} has no HELP`);
      assert.ok(family.type !== undefined, `${family.name} has no TYPE`);
    }
    const expected: Record<string, string> = {
      apiserver_request_total: 'counter',
      apiserver_request_duration_seconds: 'histogram',
      apiserver_response_sizes: 'histogram',
      apiserver_current_inflight_requests: 'gauge',
      apiserver_longrunning_requests: 'gauge',
      apiserver_watch_events_total: 'counter',
      apiserver_watch_events_sizes: 'histogram',
      apiserver_storage_objects: 'gauge',
      nautilus_wal_fsync_duration_seconds: 'histogram',
      nautilus_snapshot_duration_seconds: 'histogram',
      nautilus_db_total_size_in_bytes: 'gauge',
      process_cpu_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      process_start_time_seconds: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
      workqueue_adds_total: 'counter',
    };
    for (const [name, type] of Object.entries(expected)) assert.equal(families.get(name)?.type, type, `${name} should be a ${type}`);
    const request = families.get('apiserver_request_total')!.samples[0];
    assert.deepEqual(Object.keys(request.labels).sort(), ['code', 'component', 'dry_run', 'group', 'resource', 'scope', 'subresource', 'verb', 'version']);
    assert.ok(sumOf(families, 'nautilus_wal_fsync_duration_seconds', {}, 'nautilus_wal_fsync_duration_seconds_count') > 0, 'bootstrap writes were fsynced');
    assert.ok(sumOf(families, 'nautilus_db_total_size_in_bytes') > 0);
  });

  it('counters move with requests, with 2xx and 4xx codes', async () => {
    const before = await scrape();
    const list = { verb: 'LIST', resource: 'pods', scope: 'namespace', code: '200', component: 'apiserver' };
    const notFound = { verb: 'GET', resource: 'pods', scope: 'resource', code: '404' };
    const created = { verb: 'POST', resource: 'configmaps', scope: 'resource', code: '201' };
    const forbidden = { verb: 'LIST', resource: 'secrets', code: '403' };
    const dryRun = { verb: 'POST', resource: 'configmaps', dry_run: 'All', code: '201' };

    await server.ok(['get', 'pods', '-n', 'default']);
    await server.ok(['get', 'pods', '-n', 'default']);
    assert.notEqual((await server.kubectl(['get', 'pod', 'no-such-pod', '-n', 'default'])).code, 0);
    await server.ok(['create', 'configmap', 'metrics-a', '-n', 'default', '--from-literal=k=v']);
    await server.ok(['create', 'configmap', 'metrics-b', '-n', 'default', '--from-literal=k=v', '--dry-run=server']);
    assert.notEqual((await server.kubectl(['get', 'secrets', '-n', 'default', '--as=someone-without-rights'])).code, 0);
    const anonymous = await rawClient(server.kubeconfig, { anonymous: true });
    try {
      assert.equal((await anonymous.request('GET', '/api/v1/namespaces', undefined, { authorization: 'Bearer not-a-token' })).status, 401);
    } finally {
      anonymous.close();
    }

    const after = await scrape();
    const moved = (labels: Record<string, string>) => sumOf(after, 'apiserver_request_total', labels) - sumOf(before, 'apiserver_request_total', labels);
    assert.ok(moved(list) >= 2, `LIST pods 200 moved by ${moved(list)}`);
    assert.ok(moved(notFound) >= 1, 'GET pods 404 counted');
    assert.ok(moved(created) >= 1, 'POST configmaps 201 counted');
    assert.ok(moved(dryRun) >= 1, 'dry-run create counted with dry_run="All"');
    assert.ok(moved(forbidden) >= 1, 'LIST secrets 403 counted');
    assert.ok(moved({ code: '401' }) >= 1, '401 counted');
    const codes = new Set(after.get('apiserver_request_total')!.samples.map((s) => s.labels.code));
    assert.ok([...codes].some((c) => /^2\d\d$/.test(c)) && [...codes].some((c) => /^4\d\d$/.test(c)), `codes seen: ${[...codes].join(',')}`);

    const durationCount = (f: Map<string, Family>) => sumOf(f, 'apiserver_request_duration_seconds', { verb: 'LIST', resource: 'pods' }, 'apiserver_request_duration_seconds_count');
    assert.ok(durationCount(after) - durationCount(before) >= 2, 'latency observed per request');
    const buckets = after.get('apiserver_request_duration_seconds')!.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le);
    for (const le of ['0.005', '0.025', '1.25', '45', '60', '+Inf']) assert.ok(buckets.includes(le), `upstream bucket ${le}`);
    const sizes = sumOf(after, 'apiserver_response_sizes', { verb: 'LIST', resource: 'pods' }, 'apiserver_response_sizes_count');
    assert.ok(sizes >= 2, 'response sizes of reads observed');
    assert.ok(sumOf(after, 'apiserver_current_inflight_requests', { request_kind: 'readOnly' }) >= 1, 'the scrape itself is in flight');
  });

  it('apiserver_storage_objects counts what is stored', async () => {
    const items = JSON.parse(await server.ok(['get', 'configmaps', '-A', '-o', 'json'])).items.length;
    const families = await scrape();
    assert.equal(sumOf(families, 'apiserver_storage_objects', { resource: 'configmaps' }), items);
    assert.ok(sumOf(families, 'apiserver_storage_objects', { resource: 'clusterroles.rbac.authorization.k8s.io' }) > 10);
  });

  it('a watch is long-running while open, sends counted events, and is counted once closed', async () => {
    const client = await rawClient(server.kubeconfig);
    const lines: string[] = [];
    const watch = client.stream('/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0', (line) => lines.push(line));
    try {
      const watching = { verb: 'WATCH', resource: 'configmaps', scope: 'namespace' };
      await eventually(async () => assert.ok(sumOf(await scrape(), 'apiserver_longrunning_requests', watching) >= 1));
      const before = await scrape();
      const events = (f: Map<string, Family>) => sumOf(f, 'apiserver_watch_events_total', { group: '', version: 'v1', kind: 'ConfigMap' });
      await server.ok(['create', 'configmap', 'metrics-watched', '-n', 'default']);
      await eventually(async () => assert.ok(lines.some((l) => l.includes('metrics-watched'))));
      const after = await scrape();
      assert.ok(events(after) > events(before), 'watch events counted');
      assert.ok(sumOf(after, 'apiserver_watch_events_sizes', { kind: 'ConfigMap' }, 'apiserver_watch_events_sizes_sum') > 0);
      const closedBefore = sumOf(after, 'apiserver_request_total', { ...watching, code: '200' });
      watch.close();
      await watch.done;
      await eventually(async () => {
        const now = await scrape();
        assert.equal(sumOf(now, 'apiserver_longrunning_requests', watching), 0);
        assert.ok(sumOf(now, 'apiserver_request_total', { ...watching, code: '200' }) > closedBefore, 'the closed watch is counted');
      });
    } finally {
      client.close();
    }
  });

  it('/readyz and /livez list their named checks', async () => {
    assert.equal(await server.ok(['get', '--raw', '/readyz']), 'ok');
    const ready = (await server.ok(['get', '--raw', '/readyz?verbose'])).trim().split('\n');
    for (const check of ['[+]ping ok', '[+]log ok', '[+]wal ok', '[+]shutdown ok', '[+]poststarthook/rbac/bootstrap-roles ok', '[+]poststarthook/generic-apiserver-start-informers ok', '[+]poststarthook/crd-informer-synced ok']) {
      assert.ok(ready.includes(check), `readyz lists ${check}: ${ready.join(' | ')}`);
    }
    assert.equal(ready.at(-1), 'readyz check passed');
    const live = (await server.ok(['get', '--raw', '/livez?verbose'])).trim().split('\n');
    assert.ok(live.includes('[+]ping ok') && live.includes('[+]wal ok'));
    assert.ok(!live.includes('[+]shutdown ok'), 'shutdown is a readiness check only');
    assert.equal(live.at(-1), 'livez check passed');
    assert.equal(await server.ok(['get', '--raw', '/livez/ping']), 'ok');
    assert.equal(await server.ok(['get', '--raw', '/readyz/poststarthook/rbac/bootstrap-roles']), 'ok');
    assert.ok((await server.ok(['get', '--raw', '/readyz?verbose&exclude=ping'])).includes('[+]ping excluded: ok'));
    const missing = await server.kubectl(['get', '--raw', '/readyz/no-such-check']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /NotFound|not found/i);
    // Everyone may read health (system:public-info-viewer), unauthenticated too.
    const anonymous = await rawClient(server.kubeconfig, { anonymous: true });
    try {
      const answer = await anonymous.request('GET', '/livez?verbose');
      assert.equal(answer.status, 200);
      assert.match(answer.body, /\[\+\]ping ok/);
    } finally {
      anonymous.close();
    }
  });
});
