import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  applyConfiguration,
  applyConflictError,
  withManagedFields,
  type ApplyParams,
  type ManagedFieldsEntry,
} from '../../../src/api/apply/index.js';
import { ApiError } from '../../../src/api/status.js';
import type { KubeObject } from '../../../src/api/object.js';
import { deploymentSchema, webDeployment } from './deployment-schema.fixture.js';

const T0 = '2026-11-22T05:00:00Z';
const T1 = '2026-11-22T05:01:00Z';
const T2 = '2026-11-22T05:02:00Z';

type Stored = KubeObject;

/** Applies and stores the way the REST layer will: object plus managedFields, or a failure. */
function apply(live: Stored | undefined, applied: unknown, manager: string, options: Partial<ApplyParams> = {}) {
  const result = applyConfiguration({
    live,
    applied,
    manager,
    force: false,
    schema: deploymentSchema,
    apiVersion: 'apps/v1',
    now: T1,
    ...options,
  });
  if (result.outcome === 'conflict') return { result, stored: undefined };
  return { result, stored: withManagedFields(result.object, result.managedFields) };
}

function applyOk(live: Stored | undefined, applied: unknown, manager: string, options: Partial<ApplyParams> = {}): Stored {
  const { result, stored } = apply(live, applied, manager, options);
  assert.equal(result.outcome, 'applied', result.outcome === 'conflict' ? result.message : '');
  return stored as Stored;
}

function entryOf(object: Stored, manager: string): ManagedFieldsEntry | undefined {
  return (object.metadata.managedFields as ManagedFieldsEntry[] | undefined)?.find((e) => e.manager === manager);
}

function spec(object: Stored): Record<string, any> {
  return object.spec as Record<string, any>;
}

const replicasOnly = (replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: { replicas },
});

describe('server-side apply', () => {
  it('creates the object, owned by the applier with operation Apply', () => {
    const { result } = apply(undefined, webDeployment(), 'kubectl', { now: T0 });
    assert.equal(result.outcome, 'applied');
    if (result.outcome !== 'applied') return;
    assert.deepEqual(result.object, webDeployment());
    assert.equal(result.changed, true);
    assert.equal(result.managedFields.length, 1);
    const [entry] = result.managedFields as [ManagedFieldsEntry];
    assert.deepEqual(
      { ...entry, fieldsV1: undefined },
      { manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: undefined },
    );
    // Identity and server bookkeeping (apiVersion, kind, name, namespace) are nobody's.
    assert.deepEqual(Object.keys(entry.fieldsV1), ['f:metadata', 'f:spec']);
    assert.deepEqual(entry.fieldsV1['f:metadata'], { 'f:finalizers': { 'v:"example.com/guard"': {} }, 'f:labels': { 'f:app': {} } });
  });

  it('re-applying the same configuration changes nothing, not even the timestamp', () => {
    const created = applyOk(undefined, webDeployment(), 'kubectl', { now: T0 });
    const { result, stored } = apply(created, webDeployment(), 'kubectl', { now: T2 });
    assert.equal(result.outcome, 'applied');
    assert.equal(result.outcome === 'applied' && result.changed, false);
    assert.deepEqual(stored, created);
  });

  it('reports a conflict when another applier sets a field differently, in upstream words', () => {
    const created = applyOk(undefined, webDeployment(), 'kubectl', { now: T0 });
    const { result } = apply(created, replicasOnly(5), 'autoscaler');
    assert.equal(result.outcome, 'conflict');
    if (result.outcome !== 'conflict') return;
    assert.equal(result.message, 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    assert.deepEqual(result.conflicts, [{ manager: { manager: 'kubectl', operation: 'Apply' }, field: '.spec.replicas' }]);
  });

  it('lists several conflicts per manager', () => {
    const created = applyOk(undefined, webDeployment(), 'kubectl', { now: T0 });
    const { result } = apply(created, webDeployment({ replicas: 3, image: 'nginx:1.27' }), 'ci');
    assert.equal(result.outcome, 'conflict');
    if (result.outcome !== 'conflict') return;
    assert.equal(
      result.message,
      'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
    );
  });

  it('builds the 409 Status with FieldManagerConflict causes', () => {
    const status = applyConflictError([
      { manager: { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1' }, field: '.spec.replicas' },
    ]);
    assert.ok(status instanceof ApiError);
    assert.deepEqual(status.toStatus(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
      reason: 'Conflict',
      code: 409,
      details: {
        causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }],
      },
    });
  });

  it('shares ownership when the second applier sets the same value', () => {
    const created = applyOk(undefined, webDeployment(), 'kubectl', { now: T0 });
    const shared = applyOk(created, replicasOnly(2), 'autoscaler');
    assert.deepEqual(shared.spec, created.spec);
    assert.deepEqual(entryOf(shared, 'autoscaler')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    // Upstream stamps an applier's time only when its apply changed the object.
    assert.equal(entryOf(shared, 'autoscaler')?.time, undefined);
    assert.ok('f:replicas' in (entryOf(shared, 'kubectl')?.fieldsV1['f:spec'] as object));
  });

  it('force takes the field over: the previous owner loses it', () => {
    const created = applyOk(undefined, webDeployment(), 'kubectl', { now: T0 });
    const forced = applyOk(created, replicasOnly(5), 'autoscaler', { force: true });
    assert.equal(spec(forced).replicas, 5);
    assert.ok(!('f:replicas' in (entryOf(forced, 'kubectl')?.fieldsV1['f:spec'] as object)));
    assert.deepEqual(entryOf(forced, 'autoscaler')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.equal(entryOf(forced, 'autoscaler')?.time, T1);
  });

  it('removes fields the applier owned alone and no longer specifies', () => {
    const created = applyOk(undefined, webDeployment(), 'kubectl', { now: T0 });
    const config = webDeployment();
    delete (config.spec as Record<string, unknown>).replicas;
    const container = (config.spec as any).template.spec.containers[0];
    delete container.env;
    const reapplied = applyOk(created, config, 'kubectl', { now: T2 });
    assert.equal('replicas' in spec(reapplied), false);
    assert.equal('env' in spec(reapplied).template.spec.containers[0], false);
    assert.equal(spec(reapplied).template.spec.containers[0].image, 'nginx:1.25');
  });

  it('keeps a dropped field that another manager also owns', () => {
    const created = applyOk(undefined, webDeployment(), 'kubectl', { now: T0 });
    const shared = applyOk(created, replicasOnly(2), 'autoscaler');
    const config = webDeployment();
    delete (config.spec as Record<string, unknown>).replicas;
    const reapplied = applyOk(shared, config, 'kubectl', { now: T2 });
    assert.equal(spec(reapplied).replicas, 2);
    assert.ok(!('f:replicas' in (entryOf(reapplied, 'kubectl')?.fieldsV1['f:spec'] as object)));
    assert.deepEqual(entryOf(reapplied, 'autoscaler')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  });

  it('keeps fields nobody owns (server defaults) when pruning', () => {
    const created = applyOk(undefined, webDeployment(), 'kubectl', { now: T0 });
    // A default filled in by the server after the apply: present, owned by no manager.
    (spec(created).template.spec as Record<string, unknown>).restartPolicy = 'Always';
    const config = webDeployment();
    delete (config.spec as any).template.spec.containers[0].env;
    const reapplied = applyOk(created, config, 'kubectl', { now: T2 });
    assert.equal(spec(reapplied).template.spec.restartPolicy, 'Always');
  });

  it('merges map lists by key, keeping live-only items in place and the configuration order', () => {
    const live = applyOk(undefined, webDeployment(), 'kubectl', { now: T0 });
    (spec(live).template.spec.containers as unknown[]).push({ name: 'sidecar', image: 'envoy' });
    const config = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { template: { spec: { containers: [{ name: 'logger', image: 'fluentbit' }, { name: 'nginx', image: 'nginx:1.25' }] } } },
    };
    const merged = applyOk(live, config, 'logging');
    assert.deepEqual(
      spec(merged).template.spec.containers.map((c: { name: string }) => c.name),
      ['logger', 'nginx', 'sidecar'],
    );
    assert.deepEqual(spec(merged).template.spec.containers[1].ports, [{ containerPort: 80 }]);
  });

  it('replaces atomic values whole and unions sets', () => {
    const live = applyOk(undefined, webDeployment(), 'kubectl', { now: T0 });
    const config = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', finalizers: ['example.com/other'] },
      spec: { selector: { matchLabels: { tier: 'front' } } },
    };
    const { result } = apply(live, config, 'tool', { force: true });
    assert.equal(result.outcome, 'applied');
    if (result.outcome !== 'applied') return;
    assert.deepEqual(result.object.metadata.finalizers, ['example.com/guard', 'example.com/other']);
    assert.deepEqual(spec(result.object).selector, { matchLabels: { tier: 'front' } });
  });

  it('ignores status on the main resource', () => {
    const config = { ...webDeployment(), status: { replicas: 7 } };
    const created = applyOk(undefined, config, 'kubectl', { now: T0 });
    assert.equal('status' in created, false);
    assert.equal('f:status' in (entryOf(created, 'kubectl')?.fieldsV1 as object), false);
  });

  it('attributes an untracked object\'s fields to "before-first-apply" before applying', () => {
    const untracked = webDeployment() as KubeObject;
    const { result } = apply(untracked, webDeployment({ replicas: 3 }), 'kubectl');
    assert.equal(result.outcome, 'conflict');
    assert.equal(
      result.outcome === 'conflict' && result.message,
      'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas',
    );
    const sameValues = applyOk(untracked, webDeployment(), 'kubectl');
    assert.deepEqual(
      (sameValues.metadata.managedFields as ManagedFieldsEntry[]).map((e) => [e.manager, e.operation, e.time]),
      [['kubectl', 'Apply', undefined], ['before-first-apply', 'Update', T1]],
    );
  });

  it('without a schema, merges objects per key and replaces lists whole', () => {
    const widget = (tags: string[], size?: number) => ({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
      spec: { tags, ...(size === undefined ? {} : { size }) },
    });
    const scope = { schema: undefined, apiVersion: 'example.com/v1' };
    const created = applyOk(undefined, widget(['a', 'b'], 1), 'owner', scope);
    assert.deepEqual(entryOf(created, 'owner')?.fieldsV1, { 'f:spec': { '.': {}, 'f:size': {}, 'f:tags': {} } });
    const { result } = apply(created, widget(['c']), 'other', scope);
    assert.equal(result.outcome, 'conflict');
    assert.equal(result.outcome === 'conflict' && result.message, 'Apply failed with 1 conflict: conflict with "owner": .spec.tags');
    const forced = applyOk(created, widget(['c']), 'other', { ...scope, force: true });
    assert.deepEqual(forced.spec, { tags: ['c'], size: 1 });
  });

  it('applies through /status owning status only, with the subresource recorded', () => {
    const created = applyOk(undefined, webDeployment(), 'kubectl', { now: T0 });
    const config = { ...replicasOnly(9), status: { readyReplicas: 2 } };
    const updated = applyOk(created, config, 'controller', { subresource: 'status' });
    assert.equal(spec(updated).replicas, 2);
    assert.deepEqual(updated.status, { readyReplicas: 2 });
    const entry = entryOf(updated, 'controller');
    assert.deepEqual(entry?.fieldsV1, { 'f:status': { 'f:readyReplicas': {} } });
    assert.equal(entry?.subresource, 'status');
  });

  it('rejects configurations upstream cannot type, with 400', () => {
    const duplicate = webDeployment();
    const containers = (duplicate.spec as any).template.spec.containers;
    containers.push({ ...containers[0] });
    const expectBadRequest = (applied: unknown, message: RegExp) =>
      assert.throws(
        () => apply(undefined, applied, 'kubectl'),
        (error: unknown) => error instanceof ApiError && error.code === 400 && message.test(error.message),
      );
    expectBadRequest(duplicate, /^failed to create typed patch object \(apps\/v1, Kind=Deployment default\/web\): \.spec\.template\.spec\.containers: duplicate entries for key \[name="nginx"\]$/);
    expectBadRequest({ ...webDeployment(), apiVersion: 'apps/v1beta1' }, /Incorrect version specified in apply patch. Specified patch version: apps\/v1beta1, expected: apps\/v1/);
    expectBadRequest({ ...webDeployment(), metadata: { name: 'web', managedFields: [] } }, /^metadata\.managedFields must be nil$/);
    expectBadRequest(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
      /element 0: associative list with keys has an element that omits key field "name"/,
    );
  });
});
