/** The generated definitions: upstream names, group-version-kinds, list semantics, resolvable refs. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { loadGeneratedDefinitions, refName, type Schema } from '../../../src/api/openapi/definitions.js';

const { definitions, kubernetesVersion, source } = loadGeneratedDefinitions();
const CORE = 'io.k8s.api.core.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

function property(definition: string, name: string): Schema {
  const schema = definitions[definition]?.properties?.[name];
  assert.ok(schema, `${definition}.${name} is missing`);
  return schema;
}

test('the committed definitions are what the generator produces from the installed models', () => {
  // --check regenerates in memory and exits non-zero on any difference.
  execFileSync(process.execPath, ['scripts/generate-openapi.mjs', '--check'], { stdio: 'pipe' });
  assert.match(source, /^@kubernetes\/client-node \d+\.\d+\.\d+$/);
  assert.match(kubernetesVersion, /^v1\.\d+\.\d+$/);
});

test('kinds carry their group-version-kind under upstream definition names', () => {
  const expected: [string, { group: string; version: string; kind: string }][] = [
    [`${CORE}.Pod`, { group: '', version: 'v1', kind: 'Pod' }],
    [`${CORE}.PodList`, { group: '', version: 'v1', kind: 'PodList' }],
    ['io.k8s.api.apps.v1.Deployment', { group: 'apps', version: 'v1', kind: 'Deployment' }],
    ['io.k8s.api.apps.v1.DeploymentList', { group: 'apps', version: 'v1', kind: 'DeploymentList' }],
    ['io.k8s.api.rbac.v1.ClusterRole', { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole' }],
    ['io.k8s.api.autoscaling.v1.Scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' }],
    ['io.k8s.api.policy.v1.Eviction', { group: 'policy', version: 'v1', kind: 'Eviction' }],
    ['io.k8s.api.events.v1.Event', { group: 'events.k8s.io', version: 'v1', kind: 'Event' }],
    [`${CORE}.Event`, { group: '', version: 'v1', kind: 'Event' }],
    ['io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
      { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' }],
    [`${META}.Status`, { group: '', version: 'v1', kind: 'Status' }],
  ];
  for (const [name, gvk] of expected) {
    assert.deepEqual(definitions[name]?.['x-kubernetes-group-version-kind'], [gvk], name);
  }
  const deleteOptions = definitions[`${META}.DeleteOptions`]?.['x-kubernetes-group-version-kind'] ?? [];
  assert.ok(deleteOptions.some((g) => g.group === '' && g.version === 'v1' && g.kind === 'DeleteOptions'));
  assert.ok(deleteOptions.some((g) => g.group === 'apps' && g.version === 'v1'));
  assert.ok(definitions[`${META}.WatchEvent`]?.['x-kubernetes-group-version-kind']?.some((g) => g.group === 'batch'));
  // Nested types are no kinds.
  assert.equal(definitions[`${CORE}.PodSpec`]?.['x-kubernetes-group-version-kind'], undefined);
  assert.equal(definitions[`${META}.ObjectMeta`]?.['x-kubernetes-group-version-kind'], undefined);
});

test('shared types live in the package that declares them', () => {
  for (const name of [`${CORE}.PodTemplateSpec`, `${CORE}.ObjectReference`, `${CORE}.TopologySelectorTerm`,
    `${META}.LabelSelector`, `${META}.Condition`, `${META}.OwnerReference`, 'io.k8s.api.autoscaling.v1.ScaleSpec',
    'io.k8s.api.authentication.v1.TokenRequestSpec', 'io.k8s.api.storage.v1.TokenRequest']) {
    assert.ok(definitions[name], `${name} is missing`);
  }
  assert.equal(property('io.k8s.api.apps.v1.DeploymentSpec', 'template').$ref, `#/definitions/${CORE}.PodTemplateSpec`);
  assert.equal(property('io.k8s.api.apps.v1.DeploymentSpec', 'selector').$ref, `#/definitions/${META}.LabelSelector`);
});

test('wrapper types are the upstream primitives', () => {
  assert.equal(definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']?.type, 'string');
  assert.equal(definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']?.format, 'int-or-string');
  assert.equal(definitions['io.k8s.apimachinery.pkg.api.resource.Quantity']?.type, 'string');
  assert.equal(definitions[`${META}.Time`]?.format, 'date-time');
  assert.equal(definitions['io.k8s.apimachinery.pkg.runtime.RawExtension']?.type, 'object');
  assert.equal(property(`${META}.ObjectMeta`, 'creationTimestamp').$ref, `#/definitions/${META}.Time`);
  assert.equal(property(`${CORE}.ContainerPort`, 'containerPort').format, 'int32');
  assert.equal(property(`${CORE}.ContainerPort`, 'containerPort').type, 'integer');
  assert.equal(property(`${CORE}.ServicePort`, 'targetPort').$ref, '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
  const limits = property(`${CORE}.ResourceRequirements`, 'limits');
  assert.deepEqual(limits.additionalProperties, { $ref: '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity' });
  assert.equal(property(`${META}.ManagedFieldsEntry`, 'fieldsV1').$ref, `#/definitions/${META}.FieldsV1`);
  assert.equal(property(`${CORE}.Event`, 'eventTime').$ref, `#/definitions/${META}.MicroTime`);
});

test('fields carry descriptions and required lists', () => {
  assert.match(property(`${CORE}.PodSpec`, 'containers').description ?? '', /List of containers belonging to the pod/);
  assert.match(definitions[`${CORE}.Pod`]?.description ?? '', /collection of containers/);
  assert.deepEqual(definitions[`${CORE}.PodSpec`]?.required, ['containers']);
  assert.deepEqual(definitions[`${CORE}.Container`]?.required, ['name']);
  // Descriptions are unescaped prose, not TypeScript source.
  assert.doesNotMatch(JSON.stringify(definitions), /export declare class|\\\\'/);
});

test('patch strategies and list types match upstream markers', () => {
  const mergeBy = (key: string, mapKeys = [key], strategy = 'merge') => ({
    'x-kubernetes-patch-strategy': strategy, 'x-kubernetes-patch-merge-key': key,
    'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': mapKeys,
  });
  const extensions = (schema: Schema) =>
    Object.fromEntries(Object.entries(schema).filter(([key]) => key.startsWith('x-kubernetes-')));
  const cases: [string, string, Record<string, unknown>][] = [
    [`${CORE}.PodSpec`, 'containers', mergeBy('name')],
    [`${CORE}.PodSpec`, 'initContainers', mergeBy('name')],
    [`${CORE}.PodSpec`, 'ephemeralContainers', mergeBy('name')],
    [`${CORE}.PodSpec`, 'volumes', mergeBy('name', ['name'], 'merge,retainKeys')],
    [`${CORE}.PodSpec`, 'imagePullSecrets', mergeBy('name')],
    [`${CORE}.PodSpec`, 'tolerations', { 'x-kubernetes-list-type': 'atomic' }],
    [`${CORE}.PodSpec`, 'topologySpreadConstraints', mergeBy('topologyKey', ['topologyKey', 'whenUnsatisfiable'])],
    [`${CORE}.Container`, 'ports', mergeBy('containerPort', ['containerPort', 'protocol'])],
    [`${CORE}.Container`, 'env', mergeBy('name')],
    [`${CORE}.Container`, 'volumeMounts', mergeBy('mountPath')],
    [`${CORE}.ServiceSpec`, 'ports', mergeBy('port', ['port', 'protocol'])],
    [`${CORE}.PodStatus`, 'conditions', mergeBy('type')],
    ['io.k8s.api.apps.v1.DeploymentStatus', 'conditions', mergeBy('type')],
    [`${META}.ObjectMeta`, 'ownerReferences', mergeBy('uid')],
    [`${META}.ObjectMeta`, 'finalizers', { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' }],
  ];
  for (const [definition, name, expected] of cases) {
    assert.deepEqual(extensions(property(definition, name)), expected, `${definition}.${name}`);
  }
  assert.deepEqual(extensions(property(`${CORE}.PodSpec`, 'nodeSelector')), {});
});

test('every $ref resolves to a definition', () => {
  const dangling: string[] = [];
  const visit = (schema: Schema, where: string) => {
    if (schema.$ref && !definitions[refName(schema.$ref)]) dangling.push(`${where} -> ${schema.$ref}`);
    for (const [name, child] of Object.entries(schema.properties ?? {})) visit(child, `${where}.${name}`);
    if (typeof schema.additionalProperties === 'object') visit(schema.additionalProperties, `${where}{}`);
    if (schema.items) visit(schema.items, `${where}[]`);
  };
  for (const [name, schema] of Object.entries(definitions)) visit(schema, name);
  assert.deepEqual(dangling, []);
  assert.ok(Object.keys(definitions).length > 500, 'suspiciously few definitions');
});
