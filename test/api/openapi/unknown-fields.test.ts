/** findUnknownFields, and the schema checked against realistic objects. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findUnknownFields } from '../../../src/api/openapi/index.js';
import { loadGeneratedDefinitions, refName, type Schema } from '../../../src/api/openapi/definitions.js';
import { realisticDeployment, realisticPod } from './fixtures.js';

const { definitions } = loadGeneratedDefinitions();
const POD = 'io.k8s.api.core.v1.Pod';
const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';

test('realistic Deployment and Pod manifests have no unknown fields', () => {
  assert.deepEqual(findUnknownFields(definitions, DEPLOYMENT, realisticDeployment()), []);
  assert.deepEqual(findUnknownFields(definitions, POD, realisticPod()), []);
});

test('unknown fields are reported with upstream paths, sorted', () => {
  const deployment = realisticDeployment() as any;
  deployment.spec.replica = 2;
  deployment.spec.template.spec.containers[0].ports[0].containerPortZ = 8080;
  deployment.spec.template.spec.containers[0].imagee = 'x';
  deployment.metadata.nmae = 'typo';
  deployment.status = { readyReplicas: 1, bogus: true };
  assert.deepEqual(findUnknownFields(definitions, DEPLOYMENT, deployment), [
    'metadata.nmae',
    'spec.replica',
    'spec.template.spec.containers[0].imagee',
    'spec.template.spec.containers[0].ports[0].containerPortZ',
    'status.bogus',
  ]);
});

test('free-form parts are not inspected', () => {
  const pod = realisticPod() as any;
  pod.metadata.labels['anything.example/goes'] = 'yes';
  pod.metadata.annotations = { 'x/y': 'z' };
  pod.metadata.managedFields[0].fieldsV1 = { 'f:spec': { 'f:whatever': {} } };
  pod.spec.nodeSelector = { 'kubernetes.io/arch': 'arm64' };
  pod.spec.containers[0].resources = { limits: { 'example.com/gpu': '1' } };
  assert.deepEqual(findUnknownFields(definitions, POD, pod), []);
});

test('structs nested in lists of other kinds are checked too', () => {
  const status = { apiVersion: 'v1', kind: 'Status', details: { causes: [{ field: 'a', nope: 1 }] } };
  assert.deepEqual(findUnknownFields(definitions, 'io.k8s.apimachinery.pkg.apis.meta.v1.Status', status),
    ['details.causes[0].nope']);
});

test('wrong shapes and unknown definitions yield no findings and no exception', () => {
  assert.deepEqual(findUnknownFields(definitions, POD, null), []);
  assert.deepEqual(findUnknownFields(definitions, POD, 'a string'), []);
  assert.deepEqual(findUnknownFields(definitions, POD, { spec: 'not an object', metadata: [] }), []);
  assert.deepEqual(findUnknownFields(definitions, 'io.k8s.api.core.v1.NoSuchKind', { a: 1 }), []);
  assert.deepEqual(findUnknownFields(definitions, POD, { spec: { containers: [null, 3, { name: 'c', x: 1 }] } }),
    ['spec.containers[2].x']);
});

/** Type mismatches between a value and its schema; upstream wrapper types accept their JSON forms. */
function typeMismatches(schema: Schema, value: unknown, path: string, found: string[]): void {
  if (schema.$ref) {
    const name = refName(schema.$ref);
    if (name.endsWith('.Quantity') || name.endsWith('.IntOrString')) {
      if (typeof value !== 'string' && !Number.isInteger(value) && !(name.endsWith('.Quantity') && typeof value === 'number')) {
        found.push(`${path}: ${name} given ${typeof value}`);
      }
      return;
    }
    typeMismatches(definitions[name]!, value, path, found);
    return;
  }
  if (value === null) return;
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') found.push(`${path}: string given ${typeof value}`);
      else if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) found.push(`${path}: bad date-time`);
      return;
    case 'integer':
      if (!Number.isInteger(value)) found.push(`${path}: integer given ${typeof value}`);
      return;
    case 'number':
      if (typeof value !== 'number') found.push(`${path}: number given ${typeof value}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') found.push(`${path}: boolean given ${typeof value}`);
      return;
    case 'array':
      if (!Array.isArray(value)) found.push(`${path}: array given ${typeof value}`);
      else value.forEach((v, i) => typeMismatches(schema.items!, v, `${path}[${i}]`, found));
      return;
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) {
        found.push(`${path}: object given ${typeof value}`);
        return;
      }
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        const childSchema = schema.properties?.[key]
          ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        if (childSchema) typeMismatches(childSchema, child, `${path}.${key}`, found);
        else if (schema.properties) found.push(`${path}.${key}: not in schema`);
      }
      return;
    default:
      found.push(`${path}: schema has no type`);
  }
}

test('every value of the realistic manifests has the type the schema declares', () => {
  for (const [name, object] of [[DEPLOYMENT, realisticDeployment()], [POD, realisticPod()]] as const) {
    const found: string[] = [];
    typeMismatches({ $ref: `#/definitions/${name}` }, object, '', found);
    assert.deepEqual(found, [], name);
  }
});

test('the type check above does catch mismatches', () => {
  const pod = realisticPod() as any;
  pod.spec.containers[0].ports[0].containerPort = '80';
  pod.spec.restartPolicy = 3;
  const found: string[] = [];
  typeMismatches({ $ref: `#/definitions/${POD}` }, pod, '', found);
  assert.deepEqual(found.sort(), ['.spec.containers[0].ports[0].containerPort: integer given string', '.spec.restartPolicy: string given number']);
});
