import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JOBS, PODS } from '../../src/client/resource-types.js';
import type { Obj } from '../../src/client/api-client.js';
import { JobControl, activePodsForRemoval } from '../../src/controllers/job/control.js';
import { remainingBackoffMs, BackoffStore } from '../../src/controllers/job/backoff.js';
import { matchPodFailurePolicy } from '../../src/controllers/job/pod-failure-policy.js';
import { Intervals } from '../../src/controllers/job/indexes.js';
import { TtlAfterFinished } from '../../src/controllers/ttl-after-finished.js';
import { indexByControllerUid } from '../../src/controllers/controller-ref.js';
import { FakeClock } from '../../src/controllers/clock.js';
import { controllerCluster, markFinished, markRunningReady } from './fixture.js';

function job(name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }], ...podSpec } }, ...spec },
  } as Obj;
}

async function setup() {
  const cluster = await controllerCluster();
  const pods = cluster.informers.informer(PODS);
  indexByControllerUid(pods);
  const clock = new FakeClock(Date.parse('2025-01-01T00:00:00Z'));
  const control = new JobControl({ client: cluster.client, jobs: cluster.informers.informer(JOBS), pods, events: cluster.events, clock });
  await cluster.sync();
  const get = (name: string) => cluster.client.get(JOBS, 'default', name);
  const jobPods = (name: string) => cluster.list(PODS, 'default', `batch.kubernetes.io/job-name=${name}`);
  const conditions = async (name: string) => ((await get(name)).status?.conditions ?? []).map((c: Obj) => `${c.type}=${c.status}${c.reason ? `:${c.reason}` : ''}`);
  const at = () => new Date(clock.now());
  /** Syncs until nothing changes, as the queue would on the writes' own events. */
  const settle = async (name: string) => {
    let last: { requeueAfterMs?: number } | void = undefined;
    for (let i = 0; i < 10; i++) {
      const before = JSON.stringify([(await get(name).catch(() => undefined))?.status, await jobPods(name)]);
      last = await control.sync(`default/${name}`);
      const after = JSON.stringify([(await get(name).catch(() => undefined))?.status, await jobPods(name)]);
      if (before === after) break;
    }
    return last || undefined;
  };
  return { ...cluster, control, clock, get, jobPods, conditions, settle, at };
}

describe('Job backoff and policies (pure)', () => {
  it('backs off 10s doubling per failure since the last success, capped at 6 minutes', () => {
    const now = 1_000_000;
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 0 }, now), 0);
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 1, lastFailureTime: now }, now), 10_000);
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 2, lastFailureTime: now }, now), 20_000);
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 3, lastFailureTime: now - 15_000 }, now), 25_000);
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 6, lastFailureTime: now }, now), 320_000);
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 7, lastFailureTime: now }, now), 360_000);
    assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 20, lastFailureTime: now - 400_000 }, now), 0);
    const store = new BackoffStore();
    const pod = (phase: string, finishedAt: string) => ({ metadata: { name: 'p' }, status: { phase, containerStatuses: [{ name: 'c', state: { terminated: { exitCode: phase === 'Failed' ? 1 : 0, finishedAt } } }] } }) as Obj;
    let record = store.next('k', [], [pod('Failed', '2025-01-01T00:00:01Z'), pod('Failed', '2025-01-01T00:00:03Z')], now);
    assert.deepEqual(record, { failuresAfterLastSuccess: 2, lastFailureTime: Date.parse('2025-01-01T00:00:03Z') });
    store.save('k', record);
    // A success resets the count; a failure after it starts a new one.
    record = store.next('k', [pod('Succeeded', '2025-01-01T00:00:05Z')], [pod('Failed', '2025-01-01T00:00:04Z'), pod('Failed', '2025-01-01T00:00:06Z')], now);
    assert.deepEqual(record, { failuresAfterLastSuccess: 1, lastFailureTime: Date.parse('2025-01-01T00:00:06Z') });
  });

  it('podFailurePolicy: the first matching rule decides; exit code 0 and running containers never match', () => {
    const policy = {
      rules: [
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
        { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1, 2] } },
        { action: 'Ignore', onExitCodes: { operator: 'In', values: [1] } },
      ],
    };
    const failed = (exitCode: number, container = 'main', conditions: Obj[] = []) => ({ metadata: { name: 'p', namespace: 'ns' }, status: { phase: 'Failed', conditions, containerStatuses: [{ name: container, state: { terminated: { exitCode } } }] } }) as Obj;
    assert.deepEqual(matchPodFailurePolicy(policy, failed(42)), { failJobMessage: 'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1', countFailed: true, action: 'FailJob' });
    assert.equal(matchPodFailurePolicy(policy, failed(42, 'sidecar')).action, 'Count');
    assert.deepEqual(matchPodFailurePolicy(policy, failed(1)), { countFailed: false, action: 'Ignore' });
    assert.deepEqual(matchPodFailurePolicy(policy, failed(2)), { countFailed: true });
    assert.deepEqual(matchPodFailurePolicy(policy, failed(42, 'main', [{ type: 'DisruptionTarget', status: 'True' } as unknown as Obj])), { countFailed: false, action: 'Ignore' });
    assert.deepEqual(matchPodFailurePolicy(policy, failed(0)), { countFailed: true });
    assert.deepEqual(matchPodFailurePolicy(undefined, failed(42)), { countFailed: true });
  });

  it('completedIndexes intervals and removal of duplicate or out-of-range indexes', () => {
    const intervals = Intervals.parse('0,2-4,9,x,12', 10);
    assert.equal(intervals.toString(), '0,2-4,9');
    assert.equal(intervals.total(), 5);
    assert.equal(intervals.with([1, 5]).toString(), '0-5,9');
    const pod = (name: string, index: string | undefined, ready: boolean) => ({ metadata: { name, annotations: index === undefined ? {} : { 'batch.kubernetes.io/job-completion-index': index }, creationTimestamp: '2025-01-01T00:00:00Z' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }) as Obj;
    const indexed = { spec: { completionMode: 'Indexed', completions: 3 } } as unknown as Obj;
    const removed = activePodsForRemoval(indexed, [pod('a', '0', true), pod('b', '0', false), pod('c', '7', true), pod('d', undefined, true), pod('e', '1', true)], 0).map((p) => p.metadata.name).sort();
    assert.deepEqual(removed, ['b', 'c', 'd'], 'the less advanced duplicate, the out-of-range and the unindexed');
  });
});

describe('Job controller', () => {
  it('runs a pod with the tracking finalizer and labels, and completes with SuccessCriteriaMet then Complete', async () => {
    const t = await setup();
    const created = await t.client.create(JOBS, 'default', job('pi'));
    await t.settle('pi');
    const [pod] = await t.jobPods('pi');
    assert.match(pod.metadata.name!, /^pi-[a-z0-9]{5}$/);
    assert.deepEqual(pod.metadata.finalizers, ['batch.kubernetes.io/job-tracking']);
    assert.equal(pod.metadata.labels!['batch.kubernetes.io/controller-uid'], created.metadata.uid);
    assert.equal(pod.metadata.labels!['job-name'], 'pi');
    assert.deepEqual(pod.metadata.ownerReferences!.map((r) => [r.kind, r.name, r.controller, r.blockOwnerDeletion]), [['Job', 'pi', true, true]]);
    let status = (await t.get('pi')).status;
    assert.deepEqual({ active: status.active, ready: status.ready, terminating: status.terminating, uncounted: status.uncountedTerminatedPods }, { active: 1, ready: 0, terminating: 0, uncounted: {} });
    assert.equal(status.startTime, '2025-01-01T00:00:00Z');

    await markRunningReady(t.client, 'default', pod.metadata.name!);
    await t.settle('pi');
    assert.equal((await t.get('pi')).status.ready, 1);
    t.clock.advance(5000);
    await markFinished(t.client, 'default', pod.metadata.name!, 0, t.at());
    await t.settle('pi');
    status = (await t.get('pi')).status;
    assert.equal(status.succeeded, 1);
    assert.equal(status.active, undefined);
    assert.deepEqual(await t.conditions('pi'), ['SuccessCriteriaMet=True:CompletionsReached', 'Complete=True:CompletionsReached']);
    assert.equal(status.conditions[1].message, 'Reached expected number of succeeded pods');
    assert.equal(status.completionTime, '2025-01-01T00:00:05Z');
    assert.deepEqual((await t.client.get(PODS, 'default', pod.metadata.name!)).metadata.finalizers ?? [], [], 'counted, so released');
    const reasons = await t.reasons();
    assert.ok(reasons.includes('SuccessfulCreate') && reasons.includes('Completed'), reasons.join());
    t.stop();
  });

  it('keeps parallelism pods running until completions succeed', async () => {
    const t = await setup();
    await t.client.create(JOBS, 'default', job('work', { completions: 3, parallelism: 2 }));
    await t.settle('work');
    let pods = await t.jobPods('work');
    assert.equal(pods.length, 2);
    await markFinished(t.client, 'default', pods[0].metadata.name!, 0, t.at());
    await t.settle('work');
    pods = (await t.jobPods('work')).filter((p) => p.status.phase !== 'Succeeded');
    assert.equal(pods.length, 2, 'one more started: 2 remaining completions');
    await markFinished(t.client, 'default', pods[0].metadata.name!, 0, t.at());
    await t.settle('work');
    assert.equal((await t.jobPods('work')).filter((p) => p.status.phase !== 'Succeeded').length, 1, 'only one completion left');
    for (const pod of await t.jobPods('work')) if (pod.status.phase !== 'Succeeded') await markFinished(t.client, 'default', pod.metadata.name!, 0, t.at());
    await t.settle('work');
    assert.equal((await t.get('work')).status.succeeded, 3);
    assert.ok((await t.conditions('work')).includes('Complete=True:CompletionsReached'));
    t.stop();
  });

  it('replaces failed pods after the backoff and fails with BackoffLimitExceeded past backoffLimit', async () => {
    const t = await setup();
    await t.client.create(JOBS, 'default', job('flaky', { backoffLimit: 1 }));
    await t.settle('flaky');
    const [first] = await t.jobPods('flaky');
    await markFinished(t.client, 'default', first.metadata.name!, 1, t.at());
    const wait = await t.settle('flaky');
    assert.equal((await t.get('flaky')).status.failed, 1);
    assert.equal((await t.jobPods('flaky')).filter((p) => p.status.phase !== 'Failed').length, 0, 'no replacement during the backoff');
    assert.equal(wait?.requeueAfterMs, 10_000);
    t.clock.advance(10_001);
    await t.settle('flaky');
    const second = (await t.jobPods('flaky')).find((p) => p.status.phase === 'Pending')!;
    assert.ok(second, 'replacement after 10s');
    await markFinished(t.client, 'default', second.metadata.name!, 1, t.at());
    await t.settle('flaky');
    const status = (await t.get('flaky')).status;
    assert.equal(status.failed, 2);
    assert.deepEqual(await t.conditions('flaky'), ['FailureTarget=True:BackoffLimitExceeded', 'Failed=True:BackoffLimitExceeded']);
    assert.equal(status.conditions[1].message, 'Job has reached the specified backoff limit');
    assert.equal(status.completionTime, undefined);
    assert.ok((await t.reasons()).includes('BackoffLimitExceeded'));
    t.stop();
  });

  it('counts a pod deleted before finishing as failed', async () => {
    const t = await setup();
    await t.client.create(JOBS, 'default', job('deleted', { backoffLimit: 0 }));
    await t.settle('deleted');
    const [pod] = await t.jobPods('deleted');
    await t.client.delete(PODS, 'default', pod.metadata.name!);
    assert.ok((await t.client.get(PODS, 'default', pod.metadata.name!)).metadata.deletionTimestamp, 'the finalizer holds it');
    await t.settle('deleted');
    assert.equal((await t.get('deleted')).status.failed, 1);
    assert.ok((await t.conditions('deleted')).includes('Failed=True:BackoffLimitExceeded'));
    assert.equal((await t.jobPods('deleted')).length, 0, 'finalizer removed, pod gone');
    t.stop();
  });

  it('fails with DeadlineExceeded after activeDeadlineSeconds, deleting its active pods first', async () => {
    const t = await setup();
    await t.client.create(JOBS, 'default', job('slow', { activeDeadlineSeconds: 30, parallelism: 2, completions: 2 }));
    const first = await t.settle('slow');
    assert.equal(first?.requeueAfterMs, 30_000, 'looks again at the deadline');
    assert.equal((await t.jobPods('slow')).length, 2);
    t.clock.advance(30_000);
    await t.settle('slow');
    assert.deepEqual(await t.conditions('slow'), ['FailureTarget=True:DeadlineExceeded', 'Failed=True:DeadlineExceeded']);
    assert.equal((await t.jobPods('slow')).length, 0);
    assert.equal((await t.get('slow')).status.failed, 2, 'pods removed for a failed Job count as failed');
    t.stop();
  });

  it('podFailurePolicy FailJob fails the Job at once with reason PodFailurePolicy; Ignore does not count', async () => {
    const t = await setup();
    const podFailurePolicy = { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }, { action: 'Ignore', onExitCodes: { operator: 'In', values: [137] } }] };
    await t.client.create(JOBS, 'default', job('policy', { backoffLimit: 0, podFailurePolicy }));
    await t.settle('policy');
    const [first] = await t.jobPods('policy');
    await markFinished(t.client, 'default', first.metadata.name!, 137, t.at());
    await t.settle('policy');
    assert.equal((await t.get('policy')).status.failed, undefined, 'ignored');
    assert.deepEqual(await t.conditions('policy'), []);
    t.clock.advance(11_000);
    await t.settle('policy');
    const second = (await t.jobPods('policy')).find((p) => p.status.phase === 'Pending')!;
    await markFinished(t.client, 'default', second.metadata.name!, 42, t.at());
    await t.settle('policy');
    assert.deepEqual(await t.conditions('policy'), ['FailureTarget=True:PodFailurePolicy', 'Failed=True:PodFailurePolicy']);
    assert.equal((await t.get('policy')).status.conditions[1].message, `Container main for pod default/${second.metadata.name} failed with exit code 42 matching FailJob rule at index 0`);
    t.stop();
  });

  it('Indexed: one pod per index with annotation, label, hostname and env; completedIndexes as intervals', async () => {
    const t = await setup();
    await t.client.create(JOBS, 'default', job('idx', { completionMode: 'Indexed', completions: 4, parallelism: 3 }));
    await t.settle('idx');
    let pods = await t.jobPods('idx');
    const indexOf = (p: Obj) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index'];
    assert.deepEqual(pods.map(indexOf).sort(), ['0', '1', '2']);
    const pod1 = pods.find((p) => indexOf(p) === '1')!;
    assert.match(pod1.metadata.name!, /^idx-1-[a-z0-9]{5}$/);
    assert.equal(pod1.metadata.labels!['batch.kubernetes.io/job-completion-index'], '1');
    assert.equal(pod1.spec.hostname, 'idx-1');
    assert.deepEqual(pod1.spec.containers[0].env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }]);
    await markFinished(t.client, 'default', pod1.metadata.name!, 0, t.at());
    await markFinished(t.client, 'default', pods.find((p) => indexOf(p) === '2')!.metadata.name!, 0, t.at());
    await t.settle('idx');
    assert.equal((await t.get('idx')).status.completedIndexes, '1,2');
    assert.equal((await t.get('idx')).status.succeeded, 2);
    pods = (await t.jobPods('idx')).filter((p) => p.status.phase === 'Pending');
    assert.deepEqual(pods.map(indexOf).sort(), ['0', '3'], 'index 3 started, index 0 still running');
    // A failed index is retried under the same index.
    const zero = pods.find((p) => indexOf(p) === '0')!;
    await markFinished(t.client, 'default', zero.metadata.name!, 1, t.at());
    t.clock.advance(10_001);
    await t.settle('idx');
    t.clock.advance(10_001);
    await t.settle('idx');
    pods = (await t.jobPods('idx')).filter((p) => p.status.phase === 'Pending');
    assert.deepEqual(pods.map(indexOf).sort(), ['0', '3']);
    for (const pod of pods) await markFinished(t.client, 'default', pod.metadata.name!, 0, t.at());
    await t.settle('idx');
    const status = (await t.get('idx')).status;
    assert.equal(status.completedIndexes, '0-3');
    assert.equal(status.succeeded, 4);
    assert.equal(status.failed, 1);
    assert.ok((await t.conditions('idx')).includes('Complete=True:CompletionsReached'));
    t.stop();
  });

  it('suspend deletes active pods and records Suspended; resuming restarts them and resets startTime', async () => {
    const t = await setup();
    await t.client.create(JOBS, 'default', job('paused', { suspend: true, parallelism: 2, completions: 2 }));
    await t.settle('paused');
    assert.equal((await t.jobPods('paused')).length, 0);
    assert.deepEqual(await t.conditions('paused'), ['Suspended=True:JobSuspended']);
    assert.equal((await t.get('paused')).status.startTime, undefined);
    t.clock.advance(60_000);
    await t.client.mutate(JOBS, 'default', 'paused', (j) => ({ ...j, spec: { ...j.spec, suspend: false } }));
    await t.settle('paused');
    assert.equal((await t.jobPods('paused')).length, 2);
    assert.deepEqual(await t.conditions('paused'), ['Suspended=False:JobResumed']);
    assert.equal((await t.get('paused')).status.startTime, '2025-01-01T00:01:00Z');
    await t.client.mutate(JOBS, 'default', 'paused', (j) => ({ ...j, spec: { ...j.spec, suspend: true } }));
    await t.settle('paused');
    assert.equal((await t.jobPods('paused')).length, 0, 'suspending removes the running pods');
    assert.equal((await t.get('paused')).status.failed, undefined, 'and does not count them as failed');
    t.stop();
  });

  it('a bare Job spec with completions unset completes when any pod succeeds and the rest finish', async () => {
    const t = await setup();
    await t.client.create(JOBS, 'default', { ...job('queue'), spec: { ...job('queue').spec, parallelism: 2, completions: undefined } });
    const stored = await t.get('queue');
    assert.equal(stored.spec.completions, undefined);
    await t.settle('queue');
    const pods = await t.jobPods('queue');
    assert.equal(pods.length, 2);
    await markFinished(t.client, 'default', pods[0].metadata.name!, 0, t.at());
    await t.settle('queue');
    assert.deepEqual(await t.conditions('queue'), [], 'waits for the other pod');
    assert.equal((await t.jobPods('queue')).length, 2, 'and starts no new one');
    await markFinished(t.client, 'default', pods[1].metadata.name!, 0, t.at());
    await t.settle('queue');
    assert.ok((await t.conditions('queue')).includes('Complete=True:CompletionsReached'));
    t.stop();
  });

  it('leaves a Job whose spec.managedBy names another controller alone', async () => {
    const t = await setup();
    await t.client.create(JOBS, 'default', job('external', { managedBy: 'example.com/queue' }));
    await t.settle('external');
    assert.equal((await t.jobPods('external')).length, 0);
    t.stop();
  });

  it('ttlSecondsAfterFinished deletes the finished Job when its time is up', async () => {
    const t = await setup();
    const ttl = new TtlAfterFinished({ client: t.client, jobs: t.informers.informer(JOBS), clock: t.clock });
    await t.client.create(JOBS, 'default', job('short', { ttlSecondsAfterFinished: 30 }));
    await t.settle('short');
    assert.equal(await ttl.sync('default/short'), undefined, 'not finished: nothing to do');
    const [pod] = await t.jobPods('short');
    await markFinished(t.client, 'default', pod.metadata.name!, 0, t.at());
    await t.settle('short');
    assert.deepEqual(await ttl.sync('default/short'), { requeueAfterMs: 30_000 });
    t.clock.advance(30_000);
    await ttl.sync('default/short');
    // A foreground delete: the Job waits, being deleted, for the garbage collector to remove its pods first.
    const deleting = await t.get('short');
    assert.ok(deleting.metadata.deletionTimestamp);
    assert.deepEqual(deleting.metadata.finalizers, ['foregroundDeletion']);
    t.stop();
  });
});
