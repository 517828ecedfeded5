/**
 * Deployments, ReplicaSets, ReplicationControllers and garbage collection through the real
 * kubectl, with no node agents and no scheduler: a fake kubelet marks pods Running and Ready
 * through pods/status where a rollout needs available pods.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, rawClient, startServer, type TestServer } from './harness.js';
import { isReady, startFakeKubelet, type FakeKubelet } from './kubelet.js';

let server: TestServer;
const kubelets: FakeKubelet[] = [];

before(async () => {
  server = await startServer(['--ephemeral']);
});
after(async () => {
  await Promise.all(kubelets.map((k) => k.stop()));
  await server?.stop();
});

/** A fresh namespace with its own fake kubelet (unless `withKubelet` is false). */
async function namespace(name: string, withKubelet = true): Promise<FakeKubelet | undefined> {
  await server.ok(['create', 'namespace', name]);
  if (!withKubelet) return undefined;
  const kubelet = await startFakeKubelet(server.kubeconfig, name, 100);
  kubelets.push(kubelet);
  return kubelet;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function getJson(args: string[]): Promise<Json> {
  return JSON.parse(await server.ok([...args, '-o', 'json']));
}

async function replicaSetsOf(ns: string, app: string): Promise<Json[]> {
  return (await getJson(['get', 'rs', '-n', ns, '-l', `app=${app}`])).items;
}

async function podsOf(ns: string, selector: string): Promise<Json[]> {
  return (await getJson(['get', 'pods', '-n', ns, '-l', selector])).items;
}

const HASH = /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/;

test('create deployment --replicas=3: a ReplicaSet web-<hash> owning 3 pods; rollout status completes; Scaled up event', async () => {
  await namespace('d1');
  await server.ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '-n', 'd1']);
  const rs = await eventually(async () => {
    const list = await replicaSetsOf('d1', 'web');
    assert.equal(list.length, 1);
    return list[0];
  });
  const hash = rs.metadata.labels['pod-template-hash'];
  assert.match(hash, HASH);
  assert.equal(rs.metadata.name, `web-${hash}`);
  assert.equal(rs.spec.selector.matchLabels['pod-template-hash'], hash);
  assert.equal(rs.metadata.annotations['deployment.kubernetes.io/revision'], '1');
  assert.equal(rs.metadata.annotations['deployment.kubernetes.io/desired-replicas'], '3');
  assert.equal(rs.metadata.annotations['deployment.kubernetes.io/max-replicas'], '4');
  const deployment = await getJson(['get', 'deployment', 'web', '-n', 'd1']);
  assert.deepEqual(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: deployment.metadata.uid, controller: true, blockOwnerDeletion: true }]);

  await eventually(async () => {
    const pods = await podsOf('d1', 'app=web');
    assert.equal(pods.length, 3);
    for (const pod of pods) {
      assert.match(pod.metadata.name, new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      assert.equal(pod.metadata.labels['pod-template-hash'], hash);
      assert.deepEqual(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
  });
  const status = await server.kubectl(['rollout', 'status', 'deployment/web', '-n', 'd1', '--timeout=60s'], { timeoutMs: 70_000 });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /deployment "web" successfully rolled out/);

  const done = await getJson(['get', 'deployment', 'web', '-n', 'd1']);
  assert.equal(done.status.observedGeneration, done.metadata.generation);
  assert.equal(done.status.replicas, 3);
  assert.equal(done.status.updatedReplicas, 3);
  assert.equal(done.status.readyReplicas, 3);
  assert.equal(done.status.availableReplicas, 3);
  assert.equal(done.status.unavailableReplicas, undefined);
  assert.equal(done.metadata.annotations['deployment.kubernetes.io/revision'], '1');
  const conditions = Object.fromEntries(done.status.conditions.map((c: Json) => [c.type, c]));
  assert.equal(conditions.Available.status, 'True');
  assert.equal(conditions.Available.reason, 'MinimumReplicasAvailable');
  assert.equal(conditions.Progressing.status, 'True');
  assert.equal(conditions.Progressing.reason, 'NewReplicaSetAvailable');
  assert.equal(conditions.Progressing.message, `ReplicaSet "${rs.metadata.name}" has successfully progressed.`);

  await eventually(async () => {
    const events = await server.ok(['get', 'events', '-n', 'd1', '--field-selector', 'involvedObject.kind=Deployment']);
    assert.match(events, new RegExp(`ScalingReplicaSet\\s+deployment/web\\s+Scaled up replica set web-${hash} from 0 to 3`));
  });
  const rsEvents = await server.ok(['get', 'events', '-n', 'd1', '--field-selector', `involvedObject.name=${rs.metadata.name}`]);
  assert.match(rsEvents, /SuccessfulCreate\s+replicaset\/web-\w+\s+Created pod: web-/);
});

test('kubectl wait --for=condition=available returns once the pods are ready', async () => {
  const kubelet = (await namespace('wait'))!;
  kubelet.pause();
  await server.ok(['create', 'deployment', 'web', '--image=nginx', '--replicas=2', '-n', 'wait']);
  await eventually(async () => assert.equal((await podsOf('wait', 'app=web')).length, 2));
  const early = await server.kubectl(['wait', '--for=condition=available', 'deployment/web', '-n', 'wait', '--timeout=1s']);
  assert.notEqual(early.code, 0, 'not available while no pod is ready');
  kubelet.resume();
  const waited = await server.kubectl(['wait', '--for=condition=available', 'deployment/web', '-n', 'wait', '--timeout=60s'], { timeoutMs: 70_000 });
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stdout, /deployment.apps\/web condition met/);
});

test('scale to 5 and to 0', async () => {
  await namespace('scale');
  await server.ok(['create', 'deployment', 'web', '--image=nginx', '--replicas=2', '-n', 'scale']);
  await server.ok(['rollout', 'status', 'deployment/web', '-n', 'scale', '--timeout=60s']);
  await server.ok(['scale', 'deployment/web', '--replicas=5', '-n', 'scale']);
  await eventually(async () => assert.equal((await podsOf('scale', 'app=web')).length, 5));
  await server.ok(['rollout', 'status', 'deployment/web', '-n', 'scale', '--timeout=60s']);
  const [rs] = await replicaSetsOf('scale', 'web');
  assert.equal(rs.spec.replicas, 5);
  assert.equal(rs.metadata.annotations['deployment.kubernetes.io/desired-replicas'], '5');
  assert.equal(rs.metadata.annotations['deployment.kubernetes.io/max-replicas'], '7');
  await server.ok(['scale', 'deployment/web', '--replicas=0', '-n', 'scale']);
  await eventually(async () => assert.equal((await podsOf('scale', 'app=web')).length, 0));
  await eventually(async () => {
    const d = await getJson(['get', 'deployment', 'web', '-n', 'scale']);
    assert.equal(d.status.replicas, undefined);
    assert.equal(d.status.observedGeneration, d.metadata.generation);
  });
  assert.match(await server.ok(['get', 'deployment', 'web', '-n', 'scale']), /web\s+0\/0\s+0\s+0/);
  const events = await server.ok(['get', 'events', '-n', 'scale', '--field-selector', 'involvedObject.kind=Deployment']);
  assert.match(events, /Scaled up replica set web-\w+ from 2 to 5/);
  assert.match(events, /Scaled down replica set web-\w+ from 5 to 0/);
});

test('set image rolls out a new ReplicaSet within maxSurge and maxUnavailable (watched pod by pod)', async () => {
  await namespace('roll');
  const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: roll}
spec:
  replicas: 4
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: "nginx:1"}]}
`;
  await server.ok(['apply', '-f', '-'], { input: manifest });
  await server.ok(['rollout', 'status', 'deployment/web', '-n', 'roll', '--timeout=60s']);
  const [oldRS] = await replicaSetsOf('roll', 'web');

  const raw = await rawClient(server.kubeconfig);
  const list = JSON.parse((await raw.request('GET', '/api/v1/namespaces/roll/pods')).body);
  const pods = new Map<string, { ready: boolean; terminating: boolean }>();
  for (const pod of list.items) pods.set(pod.metadata.name, { ready: isReady(pod), terminating: !!pod.metadata.deletionTimestamp });
  let maxActive = 0;
  let minReady = Infinity;
  const violations: string[] = [];
  const watch = raw.stream(`/api/v1/namespaces/roll/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}`, (line) => {
    const event = JSON.parse(line);
    const pod = event.object;
    if (event.type === 'DELETED') pods.delete(pod.metadata.name);
    else pods.set(pod.metadata.name, { ready: isReady(pod), terminating: !!pod.metadata.deletionTimestamp });
    const active = [...pods.values()].filter((p) => !p.terminating);
    const ready = active.filter((p) => p.ready).length;
    maxActive = Math.max(maxActive, active.length);
    minReady = Math.min(minReady, ready);
    if (active.length > 5) violations.push(`${active.length} pods after ${event.type} ${pod.metadata.name}`);
    if (ready < 3) violations.push(`${ready} ready after ${event.type} ${pod.metadata.name}`);
  });
  try {
    await server.ok(['set', 'image', 'deployment/web', 'nginx=nginx:2', '-n', 'roll']);
    await server.ok(['rollout', 'status', 'deployment/web', '-n', 'roll', '--timeout=90s']);
    await eventually(async () => {
      const current = await podsOf('roll', 'app=web');
      assert.equal(current.length, 4);
      assert.ok(current.every((p) => p.spec.containers[0].image === 'nginx:2'));
    });
  } finally {
    watch.close();
    raw.close();
  }
  assert.deepEqual(violations, []);
  assert.equal(maxActive, 5, 'the rollout used its surge');
  assert.ok(minReady >= 3);
  const after = await replicaSetsOf('roll', 'web');
  assert.equal(after.length, 2);
  const newRS = after.find((rs) => rs.metadata.uid !== oldRS.metadata.uid);
  assert.equal(newRS.spec.replicas, 4);
  assert.equal(newRS.metadata.annotations['deployment.kubernetes.io/revision'], '2');
  assert.equal(after.find((rs) => rs.metadata.uid === oldRS.metadata.uid).spec.replicas, 0);
});

test('rollout history and undo go back to the earlier ReplicaSet', async () => {
  await namespace('undo');
  await server.ok(['create', 'deployment', 'web', '--image=nginx:1', '--replicas=2', '-n', 'undo']);
  await server.ok(['rollout', 'status', 'deployment/web', '-n', 'undo', '--timeout=60s']);
  const [first] = await replicaSetsOf('undo', 'web');
  await server.ok(['set', 'image', 'deployment/web', 'nginx=nginx:2', '-n', 'undo']);
  await server.ok(['annotate', 'deployment/web', 'kubernetes.io/change-cause=upgrade to 2', '-n', 'undo']);
  await server.ok(['rollout', 'status', 'deployment/web', '-n', 'undo', '--timeout=60s']);
  const history = await server.ok(['rollout', 'history', 'deployment/web', '-n', 'undo']);
  assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+upgrade to 2\n/);
  assert.match(await server.ok(['rollout', 'history', 'deployment/web', '-n', 'undo', '--revision=1']), /Image:\s+nginx:1/);

  const undo = await server.ok(['rollout', 'undo', 'deployment/web', '-n', 'undo']);
  assert.match(undo, /deployment.apps\/web rolled back/);
  await server.ok(['rollout', 'status', 'deployment/web', '-n', 'undo', '--timeout=60s']);
  const d = await getJson(['get', 'deployment', 'web', '-n', 'undo']);
  assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1');
  assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '3');
  const reused = (await replicaSetsOf('undo', 'web')).find((rs) => rs.metadata.uid === first.metadata.uid);
  assert.equal(reused.spec.replicas, 2, 'the first ReplicaSet is the new one again');
  assert.equal(reused.metadata.annotations['deployment.kubernetes.io/revision'], '3');
  assert.equal(reused.metadata.annotations['deployment.kubernetes.io/revision-history'], '1');
  assert.match(await server.ok(['rollout', 'history', 'deployment/web', '-n', 'undo']), /REVISION\s+CHANGE-CAUSE\n2\s+upgrade to 2\n3\s+<none>\n/);
  assert.equal((await replicaSetsOf('undo', 'web')).length, 2, 'no third ReplicaSet');
});

test('rollout pause holds a template change; resume rolls it out; restart rolls out again', async () => {
  await namespace('pause');
  await server.ok(['create', 'deployment', 'web', '--image=nginx:1', '--replicas=2', '-n', 'pause']);
  await server.ok(['rollout', 'status', 'deployment/web', '-n', 'pause', '--timeout=60s']);
  await server.ok(['rollout', 'pause', 'deployment/web', '-n', 'pause']);
  await server.ok(['set', 'image', 'deployment/web', 'nginx=nginx:2', '-n', 'pause']);
  await eventually(async () => {
    const d = await getJson(['get', 'deployment', 'web', '-n', 'pause']);
    assert.equal(d.status.observedGeneration, d.metadata.generation);
    const progressing = d.status.conditions.find((c: Json) => c.type === 'Progressing');
    assert.equal(progressing.reason, 'DeploymentPaused');
    assert.equal(progressing.status, 'Unknown');
  });
  assert.equal((await replicaSetsOf('pause', 'web')).length, 1, 'paused: no new ReplicaSet');

  await server.ok(['rollout', 'resume', 'deployment/web', '-n', 'pause']);
  await server.ok(['rollout', 'status', 'deployment/web', '-n', 'pause', '--timeout=60s']);
  assert.equal((await replicaSetsOf('pause', 'web')).length, 2);
  assert.ok((await podsOf('pause', 'app=web')).every((p) => p.spec.containers[0].image === 'nginx:2'));
  const resumed = (await getJson(['get', 'deployment', 'web', '-n', 'pause'])).status.conditions.find((c: Json) => c.type === 'Progressing');
  assert.equal(resumed.reason, 'NewReplicaSetAvailable');

  await server.ok(['rollout', 'pause', 'deployment/web', '-n', 'pause']);
  const blocked = await server.kubectl(['rollout', 'undo', 'deployment/web', '-n', 'pause']);
  assert.notEqual(blocked.code, 0);
  assert.match(blocked.stderr, /you cannot rollback a paused deployment/);
  await server.ok(['rollout', 'resume', 'deployment/web', '-n', 'pause']);

  await server.ok(['rollout', 'restart', 'deployment/web', '-n', 'pause']);
  await server.ok(['rollout', 'status', 'deployment/web', '-n', 'pause', '--timeout=60s']);
  const sets = await replicaSetsOf('pause', 'web');
  assert.equal(sets.length, 3);
  const newest = sets.find((rs) => rs.spec.replicas === 2);
  assert.ok(newest.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']);
  assert.equal(newest.metadata.annotations['deployment.kubernetes.io/revision'], '3');
});

test('delete cascades; --cascade=orphan keeps ReplicaSets and pods without owner references, and a new deployment adopts them', async () => {
  await namespace('gc');
  await server.ok(['create', 'deployment', 'gone', '--image=nginx', '--replicas=2', '-n', 'gc']);
  await server.ok(['create', 'deployment', 'kept', '--image=nginx', '--replicas=2', '-n', 'gc']);
  await server.ok(['rollout', 'status', 'deployment/gone', '-n', 'gc', '--timeout=60s']);
  await server.ok(['rollout', 'status', 'deployment/kept', '-n', 'gc', '--timeout=60s']);

  await server.ok(['delete', 'deployment', 'gone', '-n', 'gc']);
  await eventually(async () => {
    assert.equal((await replicaSetsOf('gc', 'gone')).length, 0);
    assert.equal((await podsOf('gc', 'app=gone')).length, 0);
  });

  const [keptRS] = await replicaSetsOf('gc', 'kept');
  await server.ok(['delete', 'deployment', 'kept', '-n', 'gc', '--cascade=orphan']);
  const orphaned = await replicaSetsOf('gc', 'kept');
  assert.equal(orphaned.length, 1);
  assert.equal(orphaned[0].metadata.uid, keptRS.metadata.uid);
  assert.equal(orphaned[0].metadata.ownerReferences, undefined, 'owner reference stripped');
  const pods = await podsOf('gc', 'app=kept');
  assert.equal(pods.length, 2);
  assert.ok(pods.every((p) => p.metadata.ownerReferences[0].uid === keptRS.metadata.uid), 'pods still belong to the ReplicaSet');

  // The same deployment again adopts the orphaned ReplicaSet instead of creating another.
  await server.ok(['create', 'deployment', 'kept', '--image=nginx', '--replicas=2', '-n', 'gc']);
  await eventually(async () => {
    const d = await getJson(['get', 'deployment', 'kept', '-n', 'gc']);
    const [rs] = await replicaSetsOf('gc', 'kept');
    assert.equal(rs.metadata.uid, keptRS.metadata.uid);
    assert.equal(rs.metadata.ownerReferences?.[0]?.uid, d.metadata.uid);
    assert.equal(rs.metadata.ownerReferences[0].controller, true);
  });
  assert.equal((await replicaSetsOf('gc', 'kept')).length, 1);
});

test('delete --cascade=foreground removes dependents first, the owner last', async () => {
  await namespace('fg');
  await server.ok(['create', 'deployment', 'web', '--image=nginx', '--replicas=2', '-n', 'fg']);
  await server.ok(['rollout', 'status', 'deployment/web', '-n', 'fg', '--timeout=60s']);
  const [rs] = await replicaSetsOf('fg', 'web');
  // A pod that cannot go yet holds the whole chain.
  const [held] = await podsOf('fg', 'app=web');
  await server.ok(['patch', 'pod', held.metadata.name, '-n', 'fg', '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}']);

  const started = await server.kubectl(['delete', 'deployment', 'web', '-n', 'fg', '--cascade=foreground', '--wait=false']);
  assert.equal(started.code, 0, started.stderr);
  await eventually(async () => {
    const d = await getJson(['get', 'deployment', 'web', '-n', 'fg']);
    assert.ok(d.metadata.deletionTimestamp);
    assert.deepEqual(d.metadata.finalizers, ['foregroundDeletion']);
    const r = await getJson(['get', 'rs', rs.metadata.name, '-n', 'fg']);
    assert.ok(r.metadata.deletionTimestamp, 'the ReplicaSet is being deleted in the foreground too');
    assert.deepEqual(r.metadata.finalizers, ['foregroundDeletion']);
    const pods = await podsOf('fg', 'app=web');
    assert.deepEqual(pods.map((p) => p.metadata.name), [held.metadata.name], 'only the held pod is left');
  });

  // kubectl's default delete waits for the owner to be gone: it returns only once the pod is released.
  const waiting = server.kubectl(['delete', 'deployment', 'web', '-n', 'fg', '--cascade=foreground', '--timeout=60s'], { timeoutMs: 70_000 });
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(await getJson(['get', 'deployment', 'web', '-n', 'fg']), 'still there while a dependent remains');
  await server.ok(['patch', 'pod', held.metadata.name, '-n', 'fg', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  const result = await waiting;
  assert.equal(result.code, 0, result.stderr);
  const left = await server.kubectl(['get', 'deployment,rs,pods', '-n', 'fg', '-o', 'name']);
  assert.equal(left.stdout.trim(), '');
});

test('a bare ReplicaSet replaces a deleted pod, adopts a matching orphan and releases a pod relabelled away', async () => {
  await namespace('rs');
  await server.ok(['create', '-f', '-'], {
    input: `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: fe, namespace: rs}
spec:
  replicas: 3
  selector: {matchLabels: {tier: fe}}
  template:
    metadata: {labels: {tier: fe}}
    spec: {containers: [{name: c, image: nginx}]}
`,
  });
  await eventually(async () => assert.equal((await podsOf('rs', 'tier=fe')).length, 3));
  await eventually(async () => assert.equal((await getJson(['get', 'rs', 'fe', '-n', 'rs'])).status.readyReplicas, 3));
  const rs = await getJson(['get', 'rs', 'fe', '-n', 'rs']);
  assert.equal(rs.status.replicas, 3);
  assert.equal(rs.status.fullyLabeledReplicas, 3);
  assert.equal(rs.status.observedGeneration, 1);

  const [victim] = await podsOf('rs', 'tier=fe');
  await server.ok(['delete', 'pod', victim.metadata.name, '-n', 'rs']);
  await eventually(async () => {
    const pods = await podsOf('rs', 'tier=fe');
    assert.equal(pods.length, 3);
    assert.ok(!pods.some((p) => p.metadata.name === victim.metadata.name));
  });

  // An orphan with the labels is adopted, and one of the four is then deleted: still three.
  await server.ok(['run', 'stray', '--image=nginx', '--labels=tier=fe', '-n', 'rs']);
  await eventually(async () => {
    const pods = await podsOf('rs', 'tier=fe');
    assert.equal(pods.length, 3);
    assert.ok(pods.every((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid));
  });

  const [moved] = await podsOf('rs', 'tier=fe');
  await server.ok(['label', 'pod', moved.metadata.name, 'tier=other', '--overwrite', '-n', 'rs']);
  await eventually(async () => {
    const released = await getJson(['get', 'pod', moved.metadata.name, '-n', 'rs']);
    assert.equal(released.metadata.ownerReferences, undefined);
    assert.equal((await podsOf('rs', 'tier=fe')).length, 3);
  });
});

test('a ReplicationController replaces a deleted pod; a delete naming no policy orphans its pods (core/v1 default)', async () => {
  await namespace('rc');
  await server.ok(['create', '-f', '-'], {
    input: `apiVersion: v1
kind: ReplicationController
metadata: {name: legacy, namespace: rc}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: c, image: nginx}]}
`,
  });
  await eventually(async () => assert.equal((await podsOf('rc', 'app=legacy')).length, 2));
  const rc = await getJson(['get', 'rc', 'legacy', '-n', 'rc']);
  const [victim] = await podsOf('rc', 'app=legacy');
  assert.deepEqual(victim.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'legacy', uid: rc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  await server.ok(['delete', 'pod', victim.metadata.name, '-n', 'rc']);
  await eventually(async () => {
    const pods = await podsOf('rc', 'app=legacy');
    assert.equal(pods.length, 2);
    assert.ok(!pods.some((p) => p.metadata.name === victim.metadata.name));
    assert.equal((await getJson(['get', 'rc', 'legacy', '-n', 'rc'])).status.readyReplicas, 2);
  });
  const events = await server.ok(['describe', 'rc', 'legacy', '-n', 'rc']);
  assert.match(events, /SuccessfulCreate\s+\S+\s+replication-controller\s+Created pod: legacy-/);

  const raw = await rawClient(server.kubeconfig);
  try {
    const response = await raw.request('DELETE', '/api/v1/namespaces/rc/replicationcontrollers/legacy');
    assert.equal(response.status, 200);
  } finally {
    raw.close();
  }
  await eventually(async () => {
    const gone = await server.kubectl(['get', 'rc', 'legacy', '-n', 'rc']);
    assert.notEqual(gone.code, 0);
    const pods = await podsOf('rc', 'app=legacy');
    assert.equal(pods.length, 2);
    assert.ok(pods.every((p) => p.metadata.ownerReferences === undefined));
  });
});

test('a dependent whose owner never existed is collected; one with a live owner stays', async () => {
  await namespace('dangling', false);
  await server.ok(['create', 'configmap', 'owner', '-n', 'dangling']);
  const owner = await getJson(['get', 'configmap', 'owner', '-n', 'dangling']);
  const configMap = (name: string, uid: string, ownerName: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: dangling
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: ${ownerName}, uid: ${uid}}]
`;
  await server.ok(['create', '-f', '-'], { input: configMap('orphan', '8e0a9d4e-0000-4000-8000-000000000001', 'nobody') });
  await server.ok(['create', '-f', '-'], { input: configMap('wrong-uid', '8e0a9d4e-0000-4000-8000-000000000002', 'owner') });
  await server.ok(['create', '-f', '-'], { input: configMap('child', owner.metadata.uid, 'owner') });
  await eventually(async () => {
    // (kube-root-ca.crt, which a namespace may also hold, is not ours to judge.)
    const names = (await server.ok(['get', 'configmaps', '-n', 'dangling', '-o', 'name'])).trim().split('\n').filter((n) => n !== 'configmap/kube-root-ca.crt').sort();
    assert.deepEqual(names, ['configmap/child', 'configmap/owner']);
  });
  await server.ok(['delete', 'configmap', 'owner', '-n', 'dangling']);
  await eventually(async () => {
    const child = await server.kubectl(['get', 'configmap', 'child', '-n', 'dangling']);
    assert.notEqual(child.code, 0);
  });
});

test('DeleteOptions: orphanDependents is honoured, and naming it with propagationPolicy is a 422', async () => {
  await namespace('opts', false);
  await server.ok(['create', 'configmap', 'a', '-n', 'opts']);
  const raw = await rawClient(server.kubeconfig);
  try {
    const both = await raw.request('DELETE', '/api/v1/namespaces/opts/configmaps/a?orphanDependents=true&propagationPolicy=Orphan');
    assert.equal(both.status, 422);
    const status = both.json<Json>();
    assert.equal(status.reason, 'Invalid');
    assert.equal(status.message, 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set');
    const orphaning = await raw.request('DELETE', '/api/v1/namespaces/opts/configmaps/a?orphanDependents=true');
    assert.equal(orphaning.status, 200);
    assert.deepEqual(orphaning.json<Json>().metadata.finalizers, ['orphan']);
  } finally {
    raw.close();
  }
  // The collector has no dependents to orphan: it drops the finalizer and the object goes.
  await eventually(async () => assert.notEqual((await server.kubectl(['get', 'configmap', 'a', '-n', 'opts'])).code, 0));
});

test('progressDeadlineSeconds: a rollout that makes no progress is marked ProgressDeadlineExceeded and rollout status fails', async () => {
  await namespace('stuck', false);
  await server.ok(['apply', '-f', '-'], {
    input: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: stuck}
spec:
  replicas: 1
  progressDeadlineSeconds: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
`,
  });
  const status = await server.kubectl(['rollout', 'status', 'deployment/web', '-n', 'stuck', '--timeout=60s'], { timeoutMs: 70_000 });
  assert.notEqual(status.code, 0);
  assert.match(status.stderr, /deployment "web" exceeded its progress deadline/);
  const d = await getJson(['get', 'deployment', 'web', '-n', 'stuck']);
  const progressing = d.status.conditions.find((c: Json) => c.type === 'Progressing');
  assert.equal(progressing.status, 'False');
  assert.equal(progressing.reason, 'ProgressDeadlineExceeded');
  assert.match(progressing.message, /^ReplicaSet "web-\w+" has timed out progressing\.$/);
});
