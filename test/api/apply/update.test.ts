import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  applyConfiguration,
  fieldManagerName,
  LAST_APPLIED_ANNOTATION,
  recordUpdate,
  withManagedFields,
  type ManagedFieldsEntry,
  type UpdateParams,
} from '../../../src/api/apply/index.js';
import type { KubeObject } from '../../../src/api/object.js';
import { deploymentSchema, webDeployment } from './deployment-schema.fixture.js';

const T0 = '2026-11-22T05:00:00Z';
const T1 = '2026-11-22T05:01:00Z';
const T2 = '2026-11-22T05:02:00Z';

function write(live: KubeObject | undefined, updated: KubeObject, manager: string, options: Partial<UpdateParams> = {}): KubeObject {
  const entries = recordUpdate({ live, updated, manager, schema: deploymentSchema, apiVersion: 'apps/v1', now: T1, ...options });
  return withManagedFields(updated, entries);
}

function entries(object: KubeObject): ManagedFieldsEntry[] {
  return (object.metadata.managedFields ?? []) as ManagedFieldsEntry[];
}

function edited(object: KubeObject, change: (copy: any) => void): KubeObject {
  const copy = structuredClone(object);
  change(copy);
  return copy;
}

const deployment = (): KubeObject => webDeployment() as KubeObject;
const imagePath = { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { 'f:image': {} } } } } } };

describe('managed fields of ordinary writes', () => {
  it('a create makes the creator own everything it wrote, new maps included', () => {
    const created = write(undefined, deployment(), 'kubectl-create', { now: T0 });
    const [entry] = entries(created) as [ManagedFieldsEntry];
    assert.equal(entries(created).length, 1);
    assert.equal(entry.manager, 'kubectl-create');
    assert.equal(entry.operation, 'Update');
    assert.equal(entry.apiVersion, 'apps/v1');
    assert.equal(entry.time, T0);
    assert.deepEqual((entry.fieldsV1['f:metadata'] as Record<string, unknown>)['f:labels'], { '.': {}, 'f:app': {} });
    assert.equal('f:name' in (entry.fieldsV1['f:metadata'] as object), false);
  });

  it('an update moves the changed field to the editor silently and keeps the rest', () => {
    const live = write(undefined, deployment(), 'kubectl-create', { now: T0 });
    const updated = write(live, edited(live, (o) => (o.spec.template.spec.containers[0].image = 'nginx:1.27')), 'kubectl-edit', { now: T2 });
    const [creator, editor] = entries(updated) as [ManagedFieldsEntry, ManagedFieldsEntry];
    assert.equal(creator.manager, 'kubectl-create');
    assert.equal(creator.time, T0);
    const container = ((creator.fieldsV1 as any)['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}']) as object;
    assert.equal('f:image' in container, false);
    assert.ok('f:name' in container);
    assert.deepEqual(editor, { manager: 'kubectl-edit', operation: 'Update', apiVersion: 'apps/v1', time: T2, fieldsType: 'FieldsV1', fieldsV1: imagePath });
  });

  it('an update takes fields from an applier too, and lists Apply entries first', () => {
    const applied = applyConfiguration({ live: undefined, applied: webDeployment(), manager: 'kubectl', force: false, schema: deploymentSchema, apiVersion: 'apps/v1', now: T2 });
    assert.equal(applied.outcome, 'applied');
    if (applied.outcome !== 'applied') return;
    const live = withManagedFields(applied.object, applied.managedFields);
    const updated = write(live, edited(live, (o) => (o.spec.template.spec.containers[0].image = 'nginx:1.27')), 'kubectl-edit', { now: T0 });
    assert.deepEqual(entries(updated).map((e) => [e.manager, e.operation]), [['kubectl', 'Apply'], ['kubectl-edit', 'Update']]);
    const container = (entries(updated)[0] as any).fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}'];
    assert.equal('f:image' in container, false);
  });

  it('a removed field leaves every manager', () => {
    const live = write(undefined, deployment(), 'kubectl-create', { now: T0 });
    const updated = write(live, edited(live, (o) => delete o.spec.template.spec.containers[0].env), 'kubectl-edit');
    const creator = JSON.stringify(entries(updated)[0]?.fieldsV1);
    assert.equal(creator.includes('f:env'), false);
    assert.equal(entries(updated).length, 1, 'the editor added nothing, so it gets no entry');
  });

  it('a write that changes nothing keeps managedFields as they were', () => {
    const live = write(undefined, deployment(), 'kubectl-create', { now: T0 });
    assert.deepEqual(write(live, structuredClone(live), 'kubectl-replace', { now: T2 }), live);
  });

  it('ignores status changes on the main resource and spec changes on /status', () => {
    const live = write(undefined, deployment(), 'kubectl-create', { now: T0 });
    const viaMain = write(live, edited(live, (o) => (o.status = { replicas: 2 })), 'someone');
    assert.deepEqual(entries(viaMain), entries(live));

    const viaStatus = write(
      live,
      edited(live, (o) => {
        o.status = { replicas: 2 };
        o.spec.replicas = 9;
      }),
      'kube-controller-manager',
      { subresource: 'status' },
    );
    const controller = entries(viaStatus).find((e) => e.manager === 'kube-controller-manager');
    assert.deepEqual(controller, {
      manager: 'kube-controller-manager',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: T1,
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { '.': {}, 'f:replicas': {} } },
      subresource: 'status',
    });
  });

  it('honours managedFields the client sends, and resets them on an empty list', () => {
    const live = write(undefined, deployment(), 'kubectl-create', { now: T0 });
    const sent: ManagedFieldsEntry[] = [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: imagePath }];
    const rewritten = write(live, edited(live, (o) => (o.metadata.managedFields = sent)), 'kubectl');
    assert.deepEqual(entries(rewritten), sent);

    const reset = write(live, edited(live, (o) => (o.metadata.managedFields = [])), 'kubectl');
    assert.equal('managedFields' in reset.metadata, false);

    const garbage = write(live, edited(live, (o) => (o.metadata.managedFields = [{ operation: 'Sideways' }])), 'kubectl');
    assert.deepEqual(entries(garbage), entries(live));
  });

  it('does not start tracking an existing object on update', () => {
    const untracked = deployment();
    const updated = write(untracked, edited(untracked, (o) => (o.spec.replicas = 4)), 'kubectl-edit');
    assert.equal('managedFields' in updated.metadata, false);
  });

  it('folds the oldest of more than ten updaters into "ancient-changes"', () => {
    let live = write(undefined, deployment(), 'creator', { now: '2026-11-22T04:00:00Z' });
    for (let i = 0; i < 11; i++) {
      live = write(live, edited(live, (o) => (o.metadata.labels[`l${i}`] = 'x')), `editor-${i}`, { now: `2026-11-22T04:${String(10 + i)}:00Z` });
    }
    const managers = entries(live).map((e) => e.manager);
    assert.equal(managers.length, 10);
    assert.equal(managers[0], 'ancient-changes');
    assert.ok(!managers.includes('creator') && !managers.includes('editor-0') && !managers.includes('editor-1'));
    const ancient = JSON.stringify(entries(live)[0]?.fieldsV1);
    assert.ok(ancient.includes('"f:l0"') && ancient.includes('"f:l1"') && ancient.includes('"f:replicas"'));
  });
});

describe('client-side apply to server-side apply', () => {
  /** What `kubectl apply` (client-side) leaves: the object, the annotation, a CSA Update entry. */
  function clientSideApplied(): KubeObject {
    const config = webDeployment();
    const annotated = edited(config as KubeObject, (o) => (o.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify(config) + '\n' }));
    return write(undefined, annotated, 'kubectl-client-side-apply', { now: T0 });
  }

  const serverSide = (live: KubeObject, manager: string) =>
    applyConfiguration({ live, applied: webDeployment({ replicas: 3 }), manager, force: false, schema: deploymentSchema, apiVersion: 'apps/v1', now: T2 });

  it('lets "kubectl" take over the fields the annotation shows it applied', () => {
    const result = serverSide(clientSideApplied(), 'kubectl');
    assert.equal(result.outcome, 'applied');
    if (result.outcome !== 'applied') return;
    assert.equal((result.object.spec as { replicas: number }).replicas, 3);
    const csa = result.managedFields.find((e) => e.manager === 'kubectl-client-side-apply');
    assert.equal(JSON.stringify(csa?.fieldsV1).includes('f:replicas'), false);
    assert.equal(result.managedFields[0]?.manager, 'kubectl');
    // The annotation now records the server-side configuration.
    const annotation = result.object.metadata.annotations?.[LAST_APPLIED_ANNOTATION] ?? '';
    assert.equal(JSON.parse(annotation).spec.replicas, 3);
    assert.ok(annotation.endsWith('\n'));
  });

  it('still reports conflicts for any other manager name', () => {
    const result = serverSide(clientSideApplied(), 'my-tool');
    assert.equal(result.outcome, 'conflict');
    if (result.outcome !== 'conflict') return;
    assert.equal(result.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
  });

  it('does not forgive a field changed since the client-side apply', () => {
    const live = clientSideApplied();
    const scaled = write(live, edited(live, (o) => (o.spec.replicas = 4)), 'kubectl-scale');
    const result = serverSide(scaled, 'kubectl');
    assert.equal(result.outcome, 'conflict');
    if (result.outcome !== 'conflict') return;
    assert.equal(result.message, 'Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas');
  });
});

describe('field manager names', () => {
  it('prefers the fieldManager parameter, else the User-Agent up to its first slash', () => {
    assert.equal(fieldManagerName('helm', 'kubectl/v1.32.0'), 'helm');
    assert.equal(fieldManagerName(undefined, 'kubectl-edit/v1.32.0 (linux/amd64) kubernetes/abc'), 'kubectl-edit');
    assert.equal(fieldManagerName('', 'a\u0007b/1'), 'ab');
    assert.equal(fieldManagerName(undefined, 'x'.repeat(200)).length, 128);
  });
});
