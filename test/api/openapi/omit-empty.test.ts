/** What upstream's typed round trip (Go structs, omitempty) drops from a built-in object, and what it keeps. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGeneratedDefinitions } from '../../../src/api/openapi/definitions.js';
import { dropOmittedValues, POINTER_STRINGS } from '../../../src/api/openapi/omit-empty.js';

const { definitions } = loadGeneratedDefinitions();
const roundTrip = (definition: string, object: Record<string, unknown>) => {
  dropOmittedValues(definitions, definition, object);
  return object;
};

test('optional fields holding an empty string, list, map or null are dropped', () => {
  const binding = roundTrip('io.k8s.api.rbac.v1.RoleBinding', {
    metadata: { name: 'b', namespace: '', labels: {}, annotations: null, finalizers: [] },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
    subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'ns', apiGroup: '' }],
  });
  assert.deepEqual(binding, {
    metadata: { name: 'b' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
    subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'ns' }],
  });
});

test('required fields, pointer strings, structs, numbers, booleans and map or list contents stay', () => {
  const pod = roundTrip('io.k8s.api.core.v1.Pod', {
    metadata: { name: 'p', labels: { empty: '' } },
    spec: {
      // required: no omitempty upstream
      containers: [{ name: 'c', image: '', args: [], env: [{ name: 'E', value: '' }], resources: {}, stdin: false }],
      nodeName: '',
      nodeSelector: {},
      runtimeClassName: '', // *string: a value
      terminationGracePeriodSeconds: 0, // *int64: a value
      securityContext: {}, // a struct is never omitted
      volumes: [{ name: 'h', hostPath: { path: '/x', type: '' } }],
    },
  });
  assert.deepEqual(pod, {
    metadata: { name: 'p', labels: { empty: '' } },
    spec: {
      containers: [{ name: 'c', env: [{ name: 'E' }], resources: {}, stdin: false }],
      runtimeClassName: '',
      terminationGracePeriodSeconds: 0,
      securityContext: {},
      volumes: [{ name: 'h', hostPath: { path: '/x', type: '' } }],
    },
  });
  const claim = roundTrip('io.k8s.api.core.v1.PersistentVolumeClaim', { metadata: { name: 'c' }, spec: { storageClassName: '', volumeName: '' } });
  assert.deepEqual(claim, { metadata: { name: 'c' }, spec: { storageClassName: '' } });
  const configMap = roundTrip('io.k8s.api.core.v1.ConfigMap', { metadata: { name: 'c' }, data: { a: '' }, binaryData: {} });
  assert.deepEqual(configMap, { metadata: { name: 'c' }, data: { a: '' } });
});

test('opaque values (embedded objects, JSON, quantities) are not looked into', () => {
  const revision = roundTrip('io.k8s.api.apps.v1.ControllerRevision', { metadata: { name: 'r' }, revision: 1, data: { spec: { x: '', y: [] } } });
  assert.deepEqual(revision.data, { spec: { x: '', y: [] } });
  const crd = roundTrip('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition', {
    metadata: { name: 'w.example.com' },
    spec: { versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', description: '', default: { a: '' }, required: [] } } }] },
  });
  assert.deepEqual((crd.spec as { versions: { schema: unknown }[] }).versions[0].schema, { openAPIV3Schema: { type: 'object', default: { a: '' } } });
});

test('every listed pointer string is an optional string property of its definition', () => {
  const wrong: string[] = [];
  for (const [definition, properties] of Object.entries(POINTER_STRINGS)) {
    const schema = definitions[definition];
    if (!schema) { wrong.push(`${definition}: no such definition`); continue; }
    for (const property of properties) {
      const field = schema.properties?.[property];
      if (!field) continue; // a field newer than the generated models
      if (field.type !== 'string' || schema.required?.includes(property)) wrong.push(`${definition}.${property}`);
    }
  }
  assert.deepEqual(wrong, []);
});
