/**
 * The StatefulSet, DaemonSet, Job and CronJob controllers through the real kubectl, with no node
 * agents and no scheduler: nodes are registered as Node objects, and where a pod must run, be
 * ready or finish, the test reports it through pods/status as a kubelet would.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { KUBECTL, eventually, startServer, type TestServer } from './harness.js';

let server: TestServer;
const cronCreatedAt = { ms: 0 };

before(async () => {
  server = await startServer(['--ephemeral']);
  // Created first: its first activation (up to a minute away) is checked by the last test.
  await server.ok(['create', 'namespace', 'cron']);
  await server.ok(['-n', 'cron', 'create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/1 * * * *', '--', 'date']);
  cronCreatedAt.ms = Date.now();
});

after(async () => {
  await server?.stop();
});

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

async function json<T = Record<string, any>>(args: string[]): Promise<T> {
  return JSON.parse(await server.ok([...args, '-o', 'json'])) as T;
}

async function podNames(namespace: string, selector: string): Promise<string[]> {
  const list = await json<{ items: Array<Record<string, any>> }>(['-n', namespace, 'get', 'pods', '-l', selector]);
  return list.items.map((p) => p.metadata.name).sort();
}

/** What a kubelet reports for a running container that passes its readiness probe. */
async function markReady(namespace: string, pod: string): Promise<void> {
  const status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now() }] };
  await server.ok(['-n', namespace, 'patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

/** What a kubelet reports once the pod's only container exited. */
async function markExited(namespace: string, pod: string, exitCode: number): Promise<void> {
  const podObject = await json(['-n', namespace, 'get', 'pod', pod]);
  const containerStatuses = podObject.spec.containers.map((c: { name: string; image: string }) => ({
    name: c.name,
    image: c.image,
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: now(), finishedAt: now() } },
  }));
  const status = { phase: exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses };
  await server.ok(['-n', namespace, 'patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

/** Marks every Pending pod of the selector ready (as the kubelets of their nodes would). */
async function readyPending(namespace: string, selector: string): Promise<void> {
  const list = await json<{ items: Array<Record<string, any>> }>(['-n', namespace, 'get', 'pods', '-l', selector]);
  for (const pod of list.items) if (pod.status?.phase === 'Pending' && !pod.metadata.deletionTimestamp) await markReady(namespace, pod.metadata.name);
}

/** Runs `kubectl get pods --watch` in the background and collects the events it prints. */
function watchPods(namespace: string, selector: string) {
  const child = spawn(KUBECTL, ['-n', namespace, 'get', 'pods', '-l', selector, '--watch', '--output-watch-events', '-o', 'custom-columns=EVENT:.type,NAME:.object.metadata.name', '--no-headers'], {
    env: { ...process.env, KUBECONFIG: server.kubeconfig, HOME: server.dataDir },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  return {
    events: () => output.split('\n').map((line) => line.trim().split(/\s+/)).filter((parts) => parts.length === 2).map(([type, name]) => `${type} ${name}`),
    stop: () => child.kill(),
  };
}

describe('Jobs', () => {
  test('a Job completes once its pod succeeds, and kubectl wait --for=condition=complete returns', async () => {
    await server.ok(['create', 'job', 'pi', '--image=busybox', '--', 'echo', 'pi']);
    const [pod] = await eventually(async () => {
      const names = await podNames('default', 'job-name=pi');
      assert.equal(names.length, 1);
      return names;
    });
    const stored = await json(['get', 'pod', pod]);
    assert.deepEqual(stored.metadata.finalizers, ['batch.kubernetes.io/job-tracking']);
    assert.equal(stored.metadata.ownerReferences[0].kind, 'Job');
    assert.equal(stored.metadata.labels['batch.kubernetes.io/job-name'], 'pi');
    const waiting = server.kubectl(['wait', '--for=condition=complete', 'job/pi', '--timeout=60s'], { timeoutMs: 70_000 });
    await markExited('default', pod, 0);
    const waited = await waiting;
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stdout, /job.batch\/pi condition met/);
    const job = await json(['get', 'job', 'pi']);
    assert.equal(job.status.succeeded, 1);
    assert.deepEqual(job.status.conditions.map((c: Record<string, string>) => `${c.type}:${c.reason}`), ['SuccessCriteriaMet:CompletionsReached', 'Complete:CompletionsReached']);
    assert.match(await server.ok(['get', 'job', 'pi']), /pi\s+Complete\s+1\/1/);
    await eventually(async () => assert.deepEqual((await json(['get', 'pod', pod])).metadata.finalizers ?? [], []));
  });

  test('a Job whose pods keep failing fails with BackoffLimitExceeded after its backoff', async () => {
    await server.ok(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'flaky' }, spec: { backoffLimit: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }),
    });
    const first = await eventually(async () => (await podNames('default', 'job-name=flaky'))[0] ?? assert.fail('no pod yet'));
    await markExited('default', first, 1);
    // The replacement comes after the 10 s pod-failure backoff.
    const second = await eventually(async () => {
      const list = await json<{ items: Array<Record<string, any>> }>(['get', 'pods', '-l', 'job-name=flaky']);
      const pending = list.items.find((p) => p.status.phase === 'Pending');
      return pending?.metadata.name ?? assert.fail('no replacement yet');
    }, 40_000);
    await markExited('default', second, 1);
    const waited = await server.kubectl(['wait', '--for=condition=failed', 'job/flaky', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(waited.code, 0, waited.stderr);
    const job = await json(['get', 'job', 'flaky']);
    assert.equal(job.status.failed, 2);
    const failed = job.status.conditions.find((c: Record<string, string>) => c.type === 'Failed');
    assert.equal(failed.reason, 'BackoffLimitExceeded');
    assert.equal(failed.message, 'Job has reached the specified backoff limit');
    assert.match(await server.ok(['describe', 'job', 'flaky']), /BackoffLimitExceeded/);
  });

  test('an Indexed Job runs one pod per completion index and records completedIndexes', async () => {
    await server.ok(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'indexed' }, spec: { completionMode: 'Indexed', completions: 3, parallelism: 3, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }),
    });
    const pods = await eventually(async () => {
      const list = await json<{ items: Array<Record<string, any>> }>(['get', 'pods', '-l', 'job-name=indexed']);
      assert.equal(list.items.length, 3);
      return list.items;
    });
    assert.deepEqual(pods.map((p) => p.metadata.labels['batch.kubernetes.io/job-completion-index']).sort(), ['0', '1', '2']);
    for (const pod of pods) {
      const index = pod.metadata.annotations['batch.kubernetes.io/job-completion-index'];
      assert.equal(pod.spec.hostname, `indexed-${index}`);
      assert.ok(pod.metadata.name.startsWith(`indexed-${index}-`));
      assert.equal(pod.spec.containers[0].env[0].name, 'JOB_COMPLETION_INDEX');
    }
    for (const pod of pods) await markExited('default', pod.metadata.name, 0);
    const waited = await server.kubectl(['wait', '--for=condition=complete', 'job/indexed', '--timeout=60s'], { timeoutMs: 70_000 });
    assert.equal(waited.code, 0, waited.stderr);
    const job = await json(['get', 'job', 'indexed']);
    assert.equal(job.status.completedIndexes, '0-2');
    assert.equal(job.status.succeeded, 3);
  });

  test('kubectl create job --from=cronjob makes a Job owned by the CronJob, which the Job controller runs', async () => {
    await server.ok(['-n', 'cron', 'create', 'job', 'by-hand', '--from=cronjob/tick']);
    const job = await json(['-n', 'cron', 'get', 'job', 'by-hand']);
    assert.equal(job.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.deepEqual(job.metadata.ownerReferences.map((r: Record<string, unknown>) => [r.kind, r.name, r.controller]), [['CronJob', 'tick', true]]);
    await eventually(async () => assert.equal((await podNames('cron', 'job-name=by-hand')).length, 1));
  });
});

describe('StatefulSets', () => {
  const manifest = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] } },
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db' },
        spec: {
          serviceName: 'db',
          replicas: 3,
          selector: { matchLabels: { app: 'db' } },
          template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'postgres', image: 'postgres:16' }] } },
          volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
        },
      },
    ],
  };

  test('creates db-1 only after db-0 is Running and Ready, with a claim per pod; rollout status completes', async () => {
    await server.ok(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    await eventually(async () => assert.deepEqual(await podNames('default', 'app=db'), ['db-0']));
    // Without readiness nothing more happens (checked over a few syncs' worth of time).
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(await podNames('default', 'app=db'), ['db-0']);
    const db0 = await json(['get', 'pod', 'db-0']);
    assert.equal(db0.metadata.labels['statefulset.kubernetes.io/pod-name'], 'db-0');
    assert.equal(db0.metadata.labels['apps.kubernetes.io/pod-index'], '0');
    assert.ok(db0.metadata.labels['controller-revision-hash'].startsWith('db-'));
    assert.equal(db0.spec.hostname, 'db-0');
    assert.equal(db0.spec.subdomain, 'db');
    assert.deepEqual(db0.spec.volumes.find((v: Record<string, unknown>) => v.name === 'data'), { name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } });
    await markReady('default', 'db-0');
    await eventually(async () => assert.deepEqual(await podNames('default', 'app=db'), ['db-0', 'db-1']));
    await markReady('default', 'db-1');
    await eventually(async () => assert.deepEqual(await podNames('default', 'app=db'), ['db-0', 'db-1', 'db-2']));
    await markReady('default', 'db-2');
    const claims = await json<{ items: Array<Record<string, any>> }>(['get', 'pvc']);
    assert.deepEqual(claims.items.map((c) => c.metadata.name).filter((n) => n.startsWith('data-db-')).sort(), ['data-db-0', 'data-db-1', 'data-db-2']);
    const rollout = await server.kubectl(['rollout', 'status', 'statefulset/db', '--timeout=30s'], { timeoutMs: 40_000 });
    assert.equal(rollout.code, 0, rollout.stderr);
    assert.match(rollout.stdout, /3 new pods have been updated/);
    assert.match(await server.ok(['get', 'statefulset', 'db']), /db\s+3\/3/);
  });

  test('a rolling update with a partition replaces only ordinals at or above it, highest first; history and undo', async () => {
    await server.ok(['patch', 'statefulset', 'db', '--type=merge', '-p', JSON.stringify({ spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } } })]);
    await server.ok(['set', 'image', 'statefulset/db', 'postgres=postgres:17']);
    const image = async (pod: string) => (await json(['get', 'pod', pod]).catch(() => ({ spec: { containers: [{ image: 'gone' }] } }))).spec.containers[0].image;
    await eventually(async () => assert.equal(await image('db-2'), 'postgres:17'));
    assert.equal(await image('db-1'), 'postgres:16', 'db-1 waits for the new db-2 to be ready');
    await markReady('default', 'db-2');
    await eventually(async () => assert.equal(await image('db-1'), 'postgres:17'));
    await markReady('default', 'db-1');
    const rollout = await server.kubectl(['rollout', 'status', 'statefulset/db', '--timeout=30s'], { timeoutMs: 40_000 });
    assert.equal(rollout.code, 0, rollout.stderr);
    assert.match(rollout.stdout, /partitioned roll out complete: 2 new pods have been updated/);
    assert.equal(await image('db-0'), 'postgres:16', 'below the partition');
    const status = (await json(['get', 'statefulset', 'db'])).status;
    assert.notEqual(status.currentRevision, status.updateRevision);
    assert.equal(status.updatedReplicas, 2);

    const history = await server.ok(['rollout', 'history', 'statefulset/db']);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    assert.match(await server.ok(['rollout', 'history', 'statefulset/db', '--revision=2']), /Image:\s+postgres:17/);
    assert.match(await server.ok(['rollout', 'undo', 'statefulset/db', '--to-revision=2']), /skipped rollback \(current template already matches revision 2\)/);
    assert.match(await server.ok(['rollout', 'undo', 'statefulset/db']), /rolled back/);
    assert.equal((await json(['get', 'statefulset', 'db'])).spec.template.spec.containers[0].image, 'postgres:16');
    // The rolled-back-to revision becomes the newest.
    assert.match(await server.ok(['rollout', 'history', 'statefulset/db']), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
    await eventually(async () => assert.equal(await image('db-2'), 'postgres:16'));
    await markReady('default', 'db-2');
    await eventually(async () => assert.equal(await image('db-1'), 'postgres:16'));
    await markReady('default', 'db-1');
  });

  test('scales down in reverse ordinal order, one pod at a time', async () => {
    await eventually(async () => assert.equal((await json(['get', 'statefulset', 'db'])).status.readyReplicas, 3));
    const watch = watchPods('default', 'app=db');
    await new Promise((r) => setTimeout(r, 500));
    await server.ok(['scale', 'statefulset', 'db', '--replicas=1']);
    await eventually(async () => assert.deepEqual(await podNames('default', 'app=db'), ['db-0']));
    await new Promise((r) => setTimeout(r, 300));
    watch.stop();
    const deletions = watch.events().filter((e) => e.startsWith('DELETED'));
    assert.deepEqual(deletions, ['DELETED db-2', 'DELETED db-1']);
    // The claims stay (whenScaled: Retain by default).
    const claims = await json<{ items: Array<Record<string, any>> }>(['get', 'pvc']);
    assert.equal(claims.items.filter((c) => c.metadata.name.startsWith('data-db-')).length, 3);
  });
});

describe('DaemonSets', () => {
  const node = (name: string, taints?: Array<Record<string, string>>) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: taints ? { taints } : {} });
  const daemonSet = (name: string, tolerations?: Array<Record<string, string>>) => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'agent', image: 'agent:1' }], ...(tolerations ? { tolerations } : {}) } } },
  });
  const targets = async (selector: string) => {
    const list = await json<{ items: Array<Record<string, any>> }>(['get', 'pods', '-l', selector]);
    return list.items
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => {
        assert.equal(p.spec.nodeName, undefined, 'placed by affinity, bound by the scheduler');
        const terms = p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
        assert.equal(terms.length, 1);
        assert.deepEqual(terms[0].matchFields[0].key, 'metadata.name');
        return terms[0].matchFields[0].values[0] as string;
      })
      .sort();
  };

  test('one pod per node, pinned by node affinity; a tainted node only when tolerated; a new node gets one', async () => {
    await server.ok(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [node('node-a'), node('node-b'), node('node-c'), node('node-gpu', [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }])] }) });
    await server.ok(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [daemonSet('agent'), daemonSet('gpu-agent', [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }])] }) });
    await eventually(async () => assert.deepEqual(await targets('app=agent'), ['node-a', 'node-b', 'node-c']));
    await eventually(async () => assert.deepEqual(await targets('app=gpu-agent'), ['node-a', 'node-b', 'node-c', 'node-gpu']));
    const ds = await json(['get', 'daemonset', 'agent']);
    assert.equal(ds.status.desiredNumberScheduled, 3);
    assert.equal(ds.status.currentNumberScheduled, 3);
    const pod = (await json<{ items: Array<Record<string, any>> }>(['get', 'pods', '-l', 'app=agent'])).items[0];
    const tolerations = pod.spec.tolerations.map((t: Record<string, string>) => `${t.key}:${t.effect}`);
    for (const expected of ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/disk-pressure:NoSchedule', 'node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/pid-pressure:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule']) {
      assert.ok(tolerations.includes(expected), `${expected} in ${tolerations}`);
    }
    await server.ok(['apply', '-f', '-'], { input: JSON.stringify(node('node-d')) });
    await eventually(async () => assert.deepEqual(await targets('app=agent'), ['node-a', 'node-b', 'node-c', 'node-d']));
    await eventually(async () => assert.equal((await json(['get', 'daemonset', 'agent'])).status.desiredNumberScheduled, 4));
  });

  test('rollout status, a rolling update, rollout history and rollout undo', async () => {
    await readyPending('default', 'app=agent');
    const first = await server.kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=30s'], { timeoutMs: 40_000 });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /daemon set "agent" successfully rolled out/);
    await server.ok(['set', 'image', 'daemonset/agent', 'agent=agent:2']);
    const status = server.kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=60s'], { timeoutMs: 70_000 });
    // Act as the kubelets: each new pod becomes ready as it is created.
    let done = false;
    void status.then(() => (done = true));
    while (!done) {
      await readyPending('default', 'app=agent');
      await new Promise((r) => setTimeout(r, 200));
    }
    const rolled = await status;
    assert.equal(rolled.code, 0, rolled.stderr);
    assert.match(rolled.stdout, /successfully rolled out/);
    const images = (await json<{ items: Array<Record<string, any>> }>(['get', 'pods', '-l', 'app=agent'])).items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.spec.containers[0].image);
    assert.deepEqual(images, ['agent:2', 'agent:2', 'agent:2', 'agent:2']);
    assert.match(await server.ok(['rollout', 'history', 'daemonset/agent']), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    assert.match(await server.ok(['rollout', 'undo', 'daemonset/agent', '--to-revision=2']), /skipped rollback/);
    assert.match(await server.ok(['rollout', 'undo', 'daemonset/agent']), /rolled back/);
    await eventually(async () => {
      await readyPending('default', 'app=agent');
      const list = (await json<{ items: Array<Record<string, any>> }>(['get', 'pods', '-l', 'app=agent'])).items.filter((p) => !p.metadata.deletionTimestamp);
      assert.deepEqual(list.map((p) => p.spec.containers[0].image), ['agent:1', 'agent:1', 'agent:1', 'agent:1']);
    }, 30_000);
    assert.match(await server.ok(['rollout', 'history', 'daemonset/agent']), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
  });
});

describe('CronJobs', () => {
  test('a */1 * * * * CronJob starts a Job at the next minute, named by the scheduled minute', async () => {
    const job = await eventually(async () => {
      const list = await json<{ items: Array<Record<string, any>> }>(['-n', 'cron', 'get', 'jobs']);
      return list.items.find((j) => j.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']) ?? assert.fail('no scheduled Job yet');
    }, Math.max(5_000, cronCreatedAt.ms + 75_000 - Date.now()));
    const scheduled = Date.parse(job.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp']);
    assert.equal(scheduled % 60_000, 0, 'on a minute');
    assert.equal(job.metadata.name, `tick-${scheduled / 60_000}`);
    assert.equal(job.metadata.ownerReferences[0].kind, 'CronJob');
    // On a slow machine a later minute may already have fired: the status names the newest Job.
    const cronJob = await json(['-n', 'cron', 'get', 'cronjob', 'tick']);
    const jobs = (await json<{ items: Array<Record<string, any>> }>(['-n', 'cron', 'get', 'jobs'])).items;
    const scheduledTimes = jobs.map((j) => Date.parse(j.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'] ?? ''));
    const lastScheduled = Date.parse(cronJob.status.lastScheduleTime);
    assert.ok(lastScheduled >= scheduled && scheduledTimes.includes(lastScheduled), `lastScheduleTime ${cronJob.status.lastScheduleTime} names a created Job`);
    assert.ok(cronJob.status.active.some((ref: Record<string, string>) => jobs.some((j) => j.metadata.name === ref.name)));
    assert.match(await server.ok(['-n', 'cron', 'describe', 'cronjob', 'tick']), new RegExp(`Created job ${job.metadata.name}`));
  });
});
