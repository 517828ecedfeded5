import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { deployments } from '../../src/registry/deployments.js';
import { replicaSets } from '../../src/registry/replicasets.js';
import { statefulSets } from '../../src/registry/statefulsets.js';
import { daemonSets } from '../../src/registry/daemonsets.js';
import { controllerRevisions } from '../../src/registry/controller-revisions.js';
import { replicationControllers } from '../../src/registry/replication-controllers.js';
import { ago, create, created, fields, meta, podTemplate, row, update } from './lifecycle.js';

const selector = { matchLabels: { app: 'web' } };

describe('Deployment', () => {
  const input = { metadata: meta('web', 'default'), spec: { selector, template: podTemplate({ app: 'web' }) } };

  it('is defaulted as apps/v1 does', () => {
    const deployment = created(deployments, input);
    assert.equal(deployment.spec.replicas, 1);
    assert.deepEqual(deployment.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.equal(deployment.spec.revisionHistoryLimit, 10);
    assert.equal(deployment.spec.progressDeadlineSeconds, 600);
    const podSpec = deployment.spec.template.spec;
    assert.equal(podSpec.restartPolicy, 'Always');
    assert.equal(podSpec.dnsPolicy, 'ClusterFirst');
    assert.equal(podSpec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(deployment.status, {});
  });

  it('leaves rollingUpdate out for the Recreate strategy', () => {
    const deployment = created(deployments, { ...input, spec: { ...input.spec, strategy: { type: 'Recreate' } } });
    assert.deepEqual(deployment.spec.strategy, { type: 'Recreate' });
  });

  it('requires a selector matching the template labels', () => {
    assert.deepEqual(fields(create(deployments, { metadata: meta('x', 'default'), spec: { template: podTemplate({ app: 'web' }) } }).errors), ['spec.selector']);
    const mismatch = create(deployments, { metadata: meta('x', 'default'), spec: { selector, template: podTemplate({ app: 'api' }) } });
    assert.deepEqual(fields(mismatch.errors), ['spec.template.metadata.labels']);
    assert.match(mismatch.errors[0].detail, /`selector` does not match template `labels`/);
    const empty = create(deployments, { metadata: meta('x', 'default'), spec: { selector: {}, template: podTemplate({ app: 'web' }) } });
    assert.match(empty.errors[0].detail, /empty selector is invalid for deployment/);
    const expressions = create(deployments, {
      metadata: meta('x', 'default'),
      spec: { selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] }, template: podTemplate({ tier: 'front' }) },
    });
    assert.deepEqual(expressions.errors, []);
  });

  it('rejects a template restart policy other than Always, negative replicas and a zero rolling update', () => {
    const { errors } = create(deployments, {
      metadata: meta('x', 'default'),
      spec: { replicas: -1, selector, template: podTemplate({ app: 'web' }, { restartPolicy: 'Never' }), strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '0%' } } },
    });
    assert.deepEqual(fields(errors), ['spec.replicas', 'spec.template.spec.restartPolicy', 'spec.strategy.rollingUpdate.maxUnavailable']);
    assert.equal(errors[1].detail, 'Unsupported value: "Never": supported values: "Always"');
    assert.match(errors[2].detail, /may not be 0 when `maxSurge` is 0/);
  });

  it('keeps its selector immutable', () => {
    const old = created(deployments, input);
    const { errors } = update(deployments, old, { metadata: meta('web', 'default'), spec: { selector: { matchLabels: { app: 'web', v: '2' } }, template: podTemplate({ app: 'web', v: '2' }) } });
    assert.deepEqual(fields(errors), ['spec.selector']);
    assert.match(errors[0].detail, /field is immutable/);
    assert.deepEqual(update(deployments, old, { metadata: meta('web', 'default'), spec: { ...input.spec, replicas: 5 } }).errors, []);
  });

  it('prints READY as ready/desired, UP-TO-DATE, AVAILABLE and the wide columns', () => {
    const deployment = created(deployments, { ...input, metadata: { ...meta('web', 'default'), creationTimestamp: ago(3 * 86400 + 5 * 3600 + 1800) }, spec: { ...input.spec, replicas: 3 } });
    deployment.status = { replicas: 3, readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 };
    assert.deepEqual(row(deployments, deployment), { 'Ready': '1/3', 'Up-to-date': 2, 'Available': 1, 'Age': '3d5h', 'Containers': 'web', 'Images': 'nginx:1.27', 'Selector': 'app=web' });
    assert.deepEqual(deployments.columns.filter((c) => c.priority === 1).map((c) => c.name), ['Containers', 'Images', 'Selector']);
  });
});

describe('ReplicaSet', () => {
  it('defaults replicas, starts with zero status replicas and prints desired/current/ready', () => {
    const replicaSet = created(replicaSets, { metadata: meta('web-abc', 'default'), spec: { selector, template: podTemplate({ app: 'web' }) } });
    assert.equal(replicaSet.spec.replicas, 1);
    assert.deepEqual(replicaSet.status, { replicas: 0 });
    replicaSet.status = { replicas: 1, readyReplicas: 1 };
    const cells = row(replicaSets, replicaSet);
    assert.deepEqual([cells['Desired'], cells['Current'], cells['Ready']], [1, 1, 1]);
    assert.equal(replicaSets.fieldSelectors?.['status.replicas']?.(replicaSet), '1');
  });
});

describe('StatefulSet', () => {
  const input = {
    metadata: meta('db', 'default'),
    spec: {
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: podTemplate({ app: 'db' }),
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };

  it('is defaulted as apps/v1 does, claim templates included', () => {
    const statefulSet = created(statefulSets, input);
    const spec = statefulSet.spec;
    assert.equal(spec.replicas, 1);
    assert.equal(spec.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.equal(spec.revisionHistoryLimit, 10);
    assert.deepEqual(spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    const claim = spec.volumeClaimTemplates[0];
    assert.equal(claim.apiVersion, 'v1');
    assert.equal(claim.kind, 'PersistentVolumeClaim');
    assert.equal(claim.spec.volumeMode, 'Filesystem');
    assert.deepEqual(claim.status, { phase: 'Pending' });
  });

  it('only lets updates change replicas, template, update strategy and a few more', () => {
    const old = created(statefulSets, input);
    assert.deepEqual(update(statefulSets, old, { metadata: meta('db', 'default'), spec: { ...input.spec, replicas: 3 } }).errors, []);
    const { errors } = update(statefulSets, old, { metadata: meta('db', 'default'), spec: { ...input.spec, serviceName: 'other' } });
    assert.deepEqual(fields(errors), ['spec']);
    assert.match(errors[0].detail, /^Forbidden: updates to statefulset spec for fields other than 'replicas'/);
  });

  it('prints READY as ready/desired', () => {
    const statefulSet = created(statefulSets, { ...input, spec: { ...input.spec, replicas: 3 } });
    statefulSet.status = { replicas: 3, readyReplicas: 2 };
    const cells = row(statefulSets, statefulSet);
    assert.equal(cells['Ready'], '2/3');
    assert.deepEqual(Object.keys(cells), ['Ready', 'Age', 'Containers', 'Images']);
  });
});

describe('DaemonSet', () => {
  const input = { metadata: meta('agent', 'kube-system'), spec: { selector: { matchLabels: { app: 'agent' } }, template: podTemplate({ app: 'agent' }, { nodeSelector: { 'kubernetes.io/os': 'linux' } }) } };

  it('is defaulted as apps/v1 does and starts with zeroed counters', () => {
    const daemonSet = created(daemonSets, input);
    assert.deepEqual(daemonSet.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    assert.equal(daemonSet.spec.revisionHistoryLimit, 10);
    assert.deepEqual(daemonSet.status, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 });
  });

  it('prints the node counts and the node selector', () => {
    const daemonSet = created(daemonSets, input);
    daemonSet.status = { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 };
    const cells = row(daemonSets, daemonSet);
    assert.deepEqual([cells['Desired'], cells['Current'], cells['Ready'], cells['Up-to-date'], cells['Available']], [3, 3, 2, 3, 2]);
    assert.equal(cells['Node Selector'], 'kubernetes.io/os=linux');
    assert.equal(cells['Selector'], 'app=agent');
  });

  it('rejects maxUnavailable and maxSurge both zero', () => {
    const { errors } = create(daemonSets, { ...input, spec: { ...input.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } } });
    assert.deepEqual(fields(errors), ['spec.updateStrategy.rollingUpdate.maxUnavailable']);
  });
});

describe('ControllerRevision', () => {
  it('prints its controller as kind.group/name and keeps data immutable', () => {
    const revision = created(controllerRevisions, {
      metadata: { ...meta('agent-5d8f', 'kube-system'), ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'u1', controller: true }] },
      revision: 2,
      data: { spec: { template: {} } },
    });
    assert.deepEqual(row(controllerRevisions, revision).Controller, 'daemonset.apps/agent');
    assert.equal(row(controllerRevisions, revision).Revision, 2);
    assert.deepEqual(fields(update(controllerRevisions, revision, { metadata: meta('agent-5d8f', 'kube-system'), revision: 2, data: { changed: true } }).errors), ['data']);
    assert.deepEqual(fields(create(controllerRevisions, { metadata: meta('r', 'default'), revision: -1 }).errors), ['revision']);
  });
});

describe('ReplicationController', () => {
  it('defaults its selector and labels from the template and requires Always', () => {
    const controller = created(replicationControllers, { metadata: meta('rc', 'default'), spec: { template: podTemplate({ app: 'legacy' }) } });
    assert.deepEqual(controller.spec.selector, { app: 'legacy' });
    assert.deepEqual(controller.metadata.labels, { app: 'legacy' });
    assert.equal(controller.spec.replicas, 1);
    assert.deepEqual(controller.status, { replicas: 0 });
    assert.equal(row(replicationControllers, controller)['Selector'], 'app=legacy');
    const bad = create(replicationControllers, { metadata: meta('rc', 'default'), spec: { selector: { app: 'other' }, template: podTemplate({ app: 'legacy' }, { restartPolicy: 'OnFailure' }) } });
    assert.deepEqual(fields(bad.errors), ['spec.template.spec.restartPolicy', 'spec.template.metadata.labels']);
  });
});
