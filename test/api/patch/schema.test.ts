import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { schemaFromOpenApi, type OpenApiSchemaObject } from '../../../src/api/patch/schema.js';
import { applyStrategicMergePatch } from '../../../src/api/patch/strategic-merge.js';
import { podDefinitions } from './pod-schema.fixture.js';

// OpenAPI v3 as the apiserver publishes it: references sit in allOf, a field's own
// extensions sit beside them, and schemas live under #/components/schemas.
const v3Schemas: Record<string, OpenApiSchemaObject> = {
  'io.k8s.api.core.v1.PodSpec': {
    type: 'object',
    properties: {
      containers: {
        type: 'array',
        items: { allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.Container' }] },
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      },
    },
  },
  'io.k8s.api.core.v1.Container': {
    type: 'object',
    properties: {
      name: { type: 'string' },
      resources: { allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.ResourceRequirements' }] },
    },
  },
  'io.k8s.api.core.v1.ResourceRequirements': {
    type: 'object',
    properties: { limits: { type: 'object', additionalProperties: { type: 'string' } } },
  },
  // Recursive, like JSONSchemaProps.
  Node: {
    type: 'object',
    properties: { children: { type: 'array', items: { $ref: '#/components/schemas/Node' } }, self: { $ref: '#/components/schemas/Node' } },
  },
};

describe('schemaFromOpenApi', () => {
  it('reads field metadata and element types from v2 definitions', () => {
    const pod = schemaFromOpenApi(podDefinitions, '#/definitions/io.k8s.api.core.v1.Pod');
    const containers = pod.property('spec')?.property('containers');
    assert.equal(containers?.patchStrategy, 'merge');
    assert.equal(containers?.patchMergeKey, 'name');
    assert.equal(containers?.listType, 'map');
    assert.deepEqual(containers?.listMapKeys, ['name']);
    const ports = containers?.items()?.property('ports');
    assert.equal(ports?.patchMergeKey, 'containerPort');
    assert.equal(pod.property('spec')?.property('volumes')?.patchStrategy, 'merge,retainKeys');
    assert.equal(pod.property('metadata')?.property('labels')?.additionalProperties()?.patchStrategy, undefined);
    assert.equal(pod.property('nope'), undefined);
    assert.equal(pod.property('constructor'), undefined);
  });

  it('resolves v3 allOf references, keeping the field extensions beside them', () => {
    const spec = schemaFromOpenApi(v3Schemas, '#/components/schemas/io.k8s.api.core.v1.PodSpec');
    const container = spec.property('containers')?.items();
    assert.ok(container?.property('name'));
    assert.ok(container?.property('resources')?.property('limits')?.additionalProperties());
    const merged = applyStrategicMergePatch(
      { containers: [{ name: 'a', resources: { limits: { cpu: '1' } } }] },
      { containers: [{ name: 'a', resources: { limits: { memory: '1Gi' } } }] },
      spec,
    );
    assert.deepEqual(merged, { containers: [{ name: 'a', resources: { limits: { cpu: '1', memory: '1Gi' } } }] });
  });

  it('handles recursive types lazily and unknown references as unknown fields', () => {
    const node = schemaFromOpenApi(v3Schemas, '#/components/schemas/Node');
    assert.ok(node.property('self')?.property('self')?.property('children')?.items()?.property('children'));
    const dangling = schemaFromOpenApi({ Root: { properties: { x: { $ref: '#/definitions/Missing' } } } }, 'Root');
    assert.equal(dangling.property('x')?.property('y'), undefined);
    assert.throws(() => schemaFromOpenApi(v3Schemas, 'Absent'), /OpenAPI definition "Absent" not found/);
  });
});
