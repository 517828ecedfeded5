/**
 * `nautilus import` and `nautilus export` between real servers: a source holding 500 objects of 23
 * kinds (a CRD and its objects among them) is imported into a second server, which then holds the
 * same objects field by field (server-set fields aside); the source exported as YAML and loaded
 * with `kubectl apply -f DIR -R` into a third server gives the same set again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { eventually, startServer, type TestServer } from './harness.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const LABEL = 'migration-test';
const NAMESPACES = ['mig-0', 'mig-1', 'mig-2', 'mig-3', 'mig-4'];

type Obj = Record<string, any>;

/** The fixture: 500 objects; the namespaces come first so their default ServiceAccounts exist before pods. */
function fixture(): { namespaces: Obj[]; rest: Obj[]; kinds: string[] } {
  const labels = { [LABEL]: 'fixture' };
  const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), labels: { ...labels, index: name.replace(/\D/g, '') || '0' }, annotations: { note: `written by the test for ${name}` } });
  const ns = (i: number) => NAMESPACES[i % 4];
  const many = (count: number, make: (i: number) => Obj) => Array.from({ length: count }, (_, i) => make(i));
  const namespaces = NAMESPACES.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(name) }));
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com', labels },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' }, color: { type: 'string' } } }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
        },
      ],
    },
  };
  const selector = { matchLabels: { app: 'demo' } };
  const rest: Obj[] = [
    crd,
    ...many(50, (i) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta(`widget-${i}`, ns(i)), spec: { size: i, color: i % 2 ? 'red' : 'blue' } })),
    ...many(100, (i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`config-${i}`, ns(i)), data: { key: `value-${i}`, 'file.txt': `line one\nline two ${i}\n` } })),
    ...many(40, (i) => ({ apiVersion: 'v1', kind: 'Secret', metadata: meta(`secret-${i}`, ns(i)), type: 'Opaque', data: { password: Buffer.from(`pw-${i}`).toString('base64') } })),
    ...many(25, (i) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(`account-${i}`, ns(i)) })),
    ...many(20, (i) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(`role-${i}`, ns(i)), rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] })),
    ...many(20, (i) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta(`binding-${i}`, ns(i)), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `role-${i}` }, subjects: [{ kind: 'ServiceAccount', name: `account-${i}`, namespace: ns(i) }] })),
    ...many(10, (i) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(`mig-clusterrole-${i}`), rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get'] }] })),
    ...many(10, (i) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: meta(`mig-clusterbinding-${i}`), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `mig-clusterrole-${i}` }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `user-${i}` }] })),
    ...many(25, (i) => ({ apiVersion: 'v1', kind: 'Service', metadata: meta(`service-${i}`, ns(i)), spec: { selector: { app: `svc-${i}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } })),
    ...many(20, (i) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta(`deploy-${i}`, ns(i)), spec: { replicas: 0, selector: { matchLabels: { app: `d-${i}` } }, template: { metadata: { labels: { app: `d-${i}` } }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1' }] } } } })),
    ...many(15, (i) => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta(`cron-${i}`, ns(i)), spec: { schedule: '0 3 * * *', suspend: true, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'registry.example/job:1' }] } } } } } })),
    ...many(20, (i) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta(`claim-${i}`, ns(i)), spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'mig-class-0', resources: { requests: { storage: '1Gi' } } } })),
    ...many(10, (i) => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: meta(`mig-volume-${i}`), spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'mig-class-0', hostPath: { path: `/data/${i}` } } })),
    ...many(5, (i) => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: meta(`mig-class-${i}`), provisioner: 'example.com/provisioner', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' })),
    ...many(5, (i) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: meta(`mig-priority-${i}`), value: 1000 + i, description: `priority ${i}` })),
    ...many(10, (i) => ({ apiVersion: 'v1', kind: 'LimitRange', metadata: meta(`limits-${i}`, 'mig-4'), spec: { limits: [{ type: 'Container', max: { memory: `${i + 1}Gi` } }] } })),
    ...many(30, (i) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(`policy-${i}`, ns(i)), spec: { podSelector: { matchLabels: { app: `p-${i}` } }, policyTypes: ['Ingress'] } })),
    ...many(20, (i) => ({ apiVersion: 'v1', kind: 'PodTemplate', metadata: meta(`template-${i}`, ns(i)), template: { metadata: { labels: { app: 'tpl' } }, spec: { containers: [{ name: 'c', image: 'registry.example/tpl:1' }] } } })),
    ...many(20, (i) => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta(`budget-${i}`, ns(i)), spec: { minAvailable: 1, selector } })),
    ...many(20, (i) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta(`ingress-${i}`, ns(i)), spec: { defaultBackend: { service: { name: `service-${i}`, port: { number: 80 } } } } })),
    ...many(19, (i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: meta(`pod-${i}`, ns(i)), spec: { containers: [{ name: 'c', image: 'registry.example/pod:1' }] } })),
  ];
  const kinds = [...new Set([...namespaces, ...rest].map((o) => o.kind))];
  return { namespaces, rest, kinds };
}

/** kubectl resource names of the fixture's kinds, for reading them back. */
const READ_AS = [
  'namespaces', 'customresourcedefinitions', 'widgets.example.com', 'configmaps', 'secrets', 'serviceaccounts', 'roles', 'rolebindings',
  'clusterroles', 'clusterrolebindings', 'services', 'deployments', 'cronjobs', 'persistentvolumeclaims', 'persistentvolumes',
  'storageclasses', 'priorityclasses', 'limitranges', 'networkpolicies', 'podtemplates', 'poddisruptionbudgets', 'ingresses', 'pods',
];

/** What a user wrote: server-set fields, status and (for kubectl apply) its bookkeeping annotation removed. */
function normalize(object: Obj, options: { dropLastApplied: boolean }): Obj {
  const { uid, resourceVersion, generation, creationTimestamp, managedFields, selfLink, ...metadata } = object.metadata;
  void [uid, resourceVersion, generation, creationTimestamp, managedFields, selfLink];
  if (options.dropLastApplied && metadata.annotations) {
    const { 'kubectl.kubernetes.io/last-applied-configuration': _applied, ...annotations } = metadata.annotations;
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  const { status: _status, ...rest } = object;
  return { ...rest, metadata };
}

async function labelled(server: TestServer, options: { dropLastApplied: boolean }): Promise<Map<string, Obj>> {
  const all = new Map<string, Obj>();
  for (const resource of READ_AS) {
    const result = await server.kubectl(['get', resource, '-A', '-l', `${LABEL}=fixture`, '-o', 'json']);
    if (result.code !== 0 && /doesn't have a resource type/.test(result.stderr)) continue; // the CRD is not there (yet)
    assert.equal(result.code, 0, result.stderr);
    const list = JSON.parse(result.stdout);
    for (const item of list.items) all.set(`${item.kind} ${item.metadata.namespace ?? ''}/${item.metadata.name}`, normalize(item, options));
  }
  return all;
}

function assertSameObjects(expected: Map<string, Obj>, actual: Map<string, Obj>): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [key, object] of expected) assert.deepEqual(actual.get(key), object, key);
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [MAIN, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      resolvePromise({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('nautilus import and export', () => {
  let source: TestServer;
  let destination: TestServer;
  let third: TestServer;
  let exportDir: string;
  let expected: Map<string, Obj>;

  before(async () => {
    [source, destination, third] = await Promise.all([startServer(), startServer(), startServer()]);
    exportDir = await mkdtemp(join(tmpdir(), 'nautilus-export-'));
    const { namespaces, rest, kinds } = fixture();
    assert.equal(namespaces.length + rest.length, 500);
    assert.ok(kinds.length >= 20, `${kinds.length} kinds`);
    const yaml = (objects: Obj[]) => objects.map((o) => `---\n${stringify(o)}`).join('');
    const create = async (objects: Obj[]) => {
      const result = await source.kubectl(['create', '-f', '-'], { input: yaml(objects), timeoutMs: 240_000 });
      assert.equal(result.code, 0, result.stderr);
    };
    await create(namespaces);
    await eventually(async () => {
      for (const name of NAMESPACES) await source.ok(['get', 'serviceaccount', 'default', '-n', name]);
    }, 30_000);
    await create(rest.slice(0, 1));
    await source.ok(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=30s']);
    await create(rest.slice(1));
    expected = await labelled(source, { dropLastApplied: false });
    assert.equal(expected.size, 500);
  });

  after(async () => {
    await Promise.all([source?.stop(), destination?.stop(), third?.stop()]);
    if (exportDir) await rm(exportDir, { recursive: true, force: true });
  });

  it('--dry-run plans the import and writes nothing', async () => {
    const result = await cli(['import', '--from-kubeconfig', source.kubeconfig, '--kubeconfig', destination.kubeconfig, '--dry-run', '--progress', 'none']);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const wouldImport = Number(/would import: (\d+)/.exec(result.stdout)?.[1]);
    assert.ok(wouldImport >= 500, result.stdout);
    assert.equal((await labelled(destination, { dropLastApplied: false })).size, 0);
  });

  it('imports every object into another server, field by field, with progress and a summary', async () => {
    const started = Date.now();
    const result = await cli(['import', '--from-kubeconfig', source.kubeconfig, '--kubeconfig', destination.kubeconfig, '--progress', 'lines']);
    console.log(`# import: ${Date.now() - started} ms`);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const summary = /imported: (\d+), skipped: (\d+), failed: (\d+)/.exec(result.stdout);
    assert.ok(summary, result.stdout);
    assert.equal(summary[3], '0');
    assert.ok(Number(summary[1]) >= 500);
    // Progress: one line per phase, in dependency order, each with a running count.
    const phases = result.stderr.split('\n').filter((line) => line.startsWith('imported '));
    const order = ['namespaces', 'custom resource definitions', 'rbac', 'service accounts', 'config', 'storage', 'workloads', 'everything else'];
    const positions = order.map((name) => phases.findIndex((line) => line.startsWith(`imported ${name}:`)));
    assert.ok(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1])), `phases in order: ${phases.join(' | ')}`);
    assert.match(phases.at(-1)!, /\((\d+)\/\1\)$/);
    // What stays behind is said, with reasons.
    assert.match(result.stdout, /skipped \d+ \(already exists in the destination\)/);
    assert.match(result.stdout, /skipped \d+ \(managed by its controller, which creates it again\)/);
    assert.match(result.stdout, /not read: events \(events are a log of the source cluster\)/);

    assertSameObjects(expected, await labelled(destination, { dropLastApplied: false }));

    // Run again: everything exists, nothing changes, nothing fails.
    const again = await cli(['import', '--from-kubeconfig', source.kubeconfig, '--kubeconfig', destination.kubeconfig, '--progress', 'bar']);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout, /imported: 0, skipped: \d+, failed: 0/);
    assert.match(again.stderr, /\r\[#+\] 100% /, 'a progress bar redrawn in place');
  });

  it('exports YAML per namespace and kind that kubectl apply -R loads into a third server', async () => {
    const result = await cli(['export', exportDir, '--kubeconfig', source.kubeconfig]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.ok((await readdir(exportDir)).includes('_cluster'));
    assert.ok((await readdir(join(exportDir, 'mig-0'))).some((file) => /^\d\d-configmaps\.yaml$/.test(file)));
    assert.ok((await readdir(join(exportDir, 'mig-0'))).some((file) => /^\d\d-widgets\.example\.com\.yaml$/.test(file)));
    // The CRD's objects map only once it is established: applying their files again loads them.
    let started = Date.now();
    const first = await third.kubectl(['apply', '-f', exportDir, '-R'], { timeoutMs: 300_000 });
    console.log(`# kubectl apply -f DIR -R: ${Date.now() - started} ms`);
    if (first.code !== 0) assert.match(first.stderr, /widgets|example\.com|ensure CRDs are installed/, first.stderr);
    await third.ok(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=30s']);
    const customResourceFiles: string[] = [];
    for (const ns of NAMESPACES.slice(0, 4)) {
      for (const file of await readdir(join(exportDir, ns))) if (file.endsWith('-widgets.example.com.yaml')) customResourceFiles.push('-f', join(exportDir, ns, file));
    }
    started = Date.now();
    const second = await third.kubectl(['apply', ...customResourceFiles], { timeoutMs: 300_000 });
    console.log(`# kubectl apply of the custom resources' files again: ${Date.now() - started} ms`);
    assert.equal(second.code, 0, second.stderr);
    const fromSource = new Map([...expected].map(([key, object]) => [key, normalize(object, { dropLastApplied: true })]));
    assertSameObjects(fromSource, await labelled(third, { dropLastApplied: true }));
  });
});
