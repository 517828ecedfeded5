import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FieldSet, FieldsV1Error } from '../../../src/api/apply/field-set.js';
import { fieldSetFromObject } from '../../../src/api/apply/object-fields.js';
import { deploymentSchema, webDeployment } from './deployment-schema.fixture.js';

const f = (name: string) => `f:${name}`;

/** FieldsV1 is compared as text: key order is part of what upstream writes. */
function assertFieldsV1(actual: unknown, expected: unknown): void {
  assert.equal(JSON.stringify(actual), JSON.stringify(expected));
}

describe('FieldsV1 encoding', () => {
  it('encodes the fields an applied Deployment specifies, keyed and ordered as upstream', () => {
    const set = fieldSetFromObject(webDeployment(), deploymentSchema);
    assertFieldsV1(set.toFieldsV1(), {
      'f:apiVersion': {},
      'f:kind': {},
      'f:metadata': {
        'f:finalizers': { 'v:"example.com/guard"': {} },
        'f:labels': { 'f:app': {} },
        'f:name': {},
        'f:namespace': {},
      },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"nginx"}': {
                '.': {},
                'f:env': { 'k:{"name":"MODE"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    });
  });

  it('marks empty maps, nulls and map entries as members, but not non-empty structs', () => {
    const set = fieldSetFromObject(
      { spec: { template: { spec: { nodeSelector: { disk: 'ssd' } } }, paused: null }, metadata: { annotations: {} } },
      deploymentSchema,
    );
    assert.equal(set.has([f('spec')]), false);
    assert.equal(set.has([f('spec'), f('paused')]), true);
    assert.equal(set.has([f('metadata'), f('annotations')]), true);
    assert.equal(set.has([f('spec'), f('template'), f('spec'), f('nodeSelector'), f('disk')]), true);
  });

  it('decodes what it encodes, including nodes that are members and parents at once', () => {
    const json = {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {} } } } } },
    };
    const set = FieldSet.fromFieldsV1(json);
    assert.equal(set.has([f('metadata'), f('labels')]), true);
    assert.equal(set.has([f('metadata'), f('labels'), f('app')]), true);
    assert.equal(set.has([f('metadata')]), false);
    assertFieldsV1(set.toFieldsV1(), json);
  });

  it('canonicalizes key JSON written in another order', () => {
    const set = FieldSet.fromFieldsV1({ 'f:ports': { 'k:{"protocol":"TCP","containerPort":80}': {} } });
    assert.equal(set.has([f('ports'), 'k:{"containerPort":80,"protocol":"TCP"}']), true);
  });

  it('rejects malformed FieldsV1 with a clear error', () => {
    assert.throws(() => FieldSet.fromFieldsV1([]), FieldsV1Error);
    assert.throws(() => FieldSet.fromFieldsV1({ 'x:foo': {} }), /expected a prefix of f:, k:, v: or i:/);
    assert.throws(() => FieldSet.fromFieldsV1({ 'k:{bad': {} }), /not valid JSON/);
    assert.throws(() => FieldSet.fromFieldsV1({ 'f:a': 'yes' }), /must be a JSON object/);
  });
});

describe('field set operations', () => {
  const a = FieldSet.of([f('spec'), f('replicas')], [f('spec'), f('paused')], [f('metadata'), f('labels'), f('x')]);
  const b = FieldSet.of([f('spec'), f('replicas')], [f('metadata'), f('labels')]);

  it('unions, intersects and subtracts member by member', () => {
    assert.deepEqual(a.union(b).paths().length, 4);
    assert.deepEqual(a.intersection(b).paths(), [[f('spec'), f('replicas')]]);
    assert.deepEqual(a.difference(b).paths(), [
      [f('metadata'), f('labels'), f('x')],
      [f('spec'), f('paused')],
    ]);
  });

  it('subtracts recursively: removing a path removes what lies below it', () => {
    assert.deepEqual(a.recursiveDifference(b).paths(), [[f('spec'), f('paused')]]);
  });

  it('is empty only without members anywhere', () => {
    assert.equal(new FieldSet().isEmpty(), true);
    assert.equal(a.difference(a).isEmpty(), true);
    assert.equal(a.isEmpty(), false);
  });
});
