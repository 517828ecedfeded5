/**
 * Custom resources end to end with the real kubectl: an operator-shaped CRD (two versions,
 * printer columns, status and scale subresources, a CEL rule, defaults), its objects served
 * like built-in ones, and a tiny operator reconciling one through a watch over HTTPS.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, eventually, type TestServer } from './harness.js';
import { HttpClient } from '../../src/client/http.js';
import type { ResourceType } from '../../src/client/resource-types.js';

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    additionalPrinterColumns:
    - name: Size
      type: string
      jsonPath: .spec.size
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Phase
      type: string
      jsonPath: .status.phase
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [size]
            x-kubernetes-validations:
            - rule: "self.replicas <= self.maxReplicas"
              message: "replicas must not exceed maxReplicas"
            properties:
              size:
                type: string
                description: How big the widget is.
                enum: [small, medium, large]
              replicas:
                type: integer
                default: 1
                minimum: 0
              maxReplicas:
                type: integer
                default: 10
              color:
                type: string
                default: blue
          status:
            type: object
            properties:
              phase:
                type: string
              replicas:
                type: integer
              selector:
                type: string
  - name: v1beta1
    served: true
    storage: false
    deprecated: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`;

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

async function applyCrd(): Promise<void> {
  await server.ok(['apply', '-f', '-'], { input: CRD });
  await eventually(async () => {
    const out = await server.ok(['get', 'crd', 'widgets.example.com', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
    assert.equal(out, 'True');
  });
}

test('a CRD serves its kind: printer columns, explain, defaults, pruning, validation, scale, api-resources, get all, cleanup', async () => {
  await applyCrd();
  const resources = await eventually(async () => {
    const out = await server.ok(['api-resources', '--api-group=example.com']);
    assert.match(out, /widgets\s+wd\s+example\.com\/v1\s+true\s+Widget/);
    return out;
  });
  assert.ok(resources);

  // A second CRD claiming a taken short name is not served; its condition says why.
  await server.ok(['apply', '-f', '-'], {
    input: 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gizmos.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {plural: gizmos, kind: Gizmo, shortNames: [wd]}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object}}\n',
  });
  await eventually(async () => {
    const reason = await server.ok(['get', 'crd', 'gizmos.example.com', '-o', 'jsonpath={.status.conditions[?(@.type=="NamesAccepted")].reason}/{.status.conditions[?(@.type=="NamesAccepted")].message}']);
    assert.equal(reason, 'ShortNamesConflict/"wd" is already in use');
  });
  assert.notEqual((await server.kubectl(['get', 'gizmos'])).code, 0);
  // An invalid CRD is refused with the field at fault.
  const invalid = await server.kubectl(['apply', '-f', '-'], {
    input: 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: bad.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {plural: bads, kind: Bad}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object, x-kubernetes-validations: [{rule: "self.nope +"}]}}\n',
  });
  assert.notEqual(invalid.code, 0);
  assert.match(invalid.stderr, /metadata\.name: Invalid value: "bad\.example\.com": must be spec\.names\.plural\+"\."\+spec\.group/);
  assert.match(invalid.stderr, /spec\.versions\[0\]\.schema\.openAPIV3Schema\.x-kubernetes-validations\[0\]\.rule: Invalid value: "self\.nope \+": compilation failed: ERROR: <input>:1:/);

  await server.ok(['create', 'namespace', 'shop']);
  // Unknown fields are pruned (kubectl would refuse them client-side with --validate=strict).
  await server.ok(['apply', '--validate=false', '-n', 'shop', '-f', '-'], {
    input: 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: small\n  replicas: 2\n  bogus: 1\n',
  });
  const w1 = JSON.parse(await server.ok(['get', 'widget', 'w1', '-n', 'shop', '-o', 'json']));
  assert.equal(w1.spec.color, 'blue', 'default applied');
  assert.equal(w1.spec.maxReplicas, 10, 'default applied');
  assert.equal(w1.spec.bogus, undefined, 'unknown field pruned');
  assert.equal(w1.metadata.generation, 1);

  // Printer columns.
  const table = await server.ok(['get', 'wd', '-n', 'shop']);
  assert.match(table, /^NAME\s+SIZE\s+REPLICAS\s+PHASE\s+AGE\n/);
  assert.match(table, /w1\s+small\s+2\s+<none>\s+\d+s/);

  // The schema's own message, then the CEL rule's message.
  const badEnum = await server.kubectl(['apply', '-n', 'shop', '-f', '-'], { input: 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w2\nspec:\n  size: huge\n' });
  assert.notEqual(badEnum.code, 0);
  assert.match(badEnum.stderr, /spec\.size: Unsupported value: "huge": supported values: "small", "medium", "large"/);
  const badRule = await server.kubectl(['apply', '-n', 'shop', '-f', '-'], { input: 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w3\nspec:\n  size: large\n  replicas: 20\n' });
  assert.notEqual(badRule.code, 0);
  assert.match(badRule.stderr, /The Widget "w3" is invalid: spec: Invalid value: "object": replicas must not exceed maxReplicas/);

  // explain reads the published schema.
  const explain = await server.ok(['explain', 'widgets.spec.size']);
  assert.match(explain, /How big the widget is\./);

  // Scale through the scale subresource; the status subresource holds what the controller reports.
  await server.ok(['scale', 'widget', 'w1', '-n', 'shop', '--replicas=5']);
  assert.equal(await server.ok(['get', 'widget', 'w1', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}']), '5');
  await server.ok(['patch', 'widget', 'w1', '-n', 'shop', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Ready","replicas":5}}']);
  assert.equal(await server.ok(['get', 'widget', 'w1', '-n', 'shop', '-o', 'jsonpath={.status.phase}']), 'Ready');
  // Through the main resource, status does not change.
  await server.ok(['patch', 'widget', 'w1', '-n', 'shop', '--type=merge', '-p', '{"status":{"phase":"Broken"}}']);
  assert.equal(await server.ok(['get', 'widget', 'w1', '-n', 'shop', '-o', 'jsonpath={.status.phase}']), 'Ready');

  // The other served version: the same object, deprecated.
  const beta = await server.kubectl(['get', 'widgets.v1beta1.example.com', 'w1', '-n', 'shop', '-o', 'jsonpath={.apiVersion}']);
  assert.equal(beta.code, 0, beta.stderr);
  assert.equal(beta.stdout, 'example.com/v1beta1');
  assert.match(beta.stderr, /example\.com\/v1beta1 Widget is deprecated/);

  // Categories: get all lists it.
  const all = await server.ok(['get', 'all', '-n', 'shop']);
  assert.match(all, /widget\.example\.com\/w1/);

  // Deleting the CRD removes its objects, then the kind.
  await server.ok(['delete', 'crd', 'widgets.example.com', '--timeout=60s']);
  await eventually(async () => {
    const gone = await server.kubectl(['get', 'crd', 'widgets.example.com']);
    assert.notEqual(gone.code, 0);
    const out = await server.ok(['api-resources', '--api-group=example.com']);
    assert.doesNotMatch(out, /widgets/);
  }, 30_000);
  // Defined again, it starts empty.
  await applyCrd();
  await eventually(async () => {
    const out = await server.kubectl(['get', 'widgets', '-n', 'shop', '-o', 'name']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), '');
  });
});

test('a tiny operator reconciles a custom resource through a watch over HTTPS', async () => {
  await applyCrd();
  await server.kubectl(['create', 'namespace', 'ops']);
  const client = HttpClient.fromKubeconfig(server.kubeconfig);
  const WIDGETS: ResourceType = { group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true };
  const reconciled = new Set<string>();
  const initial = await client.list(WIDGETS, 'ops');
  const watch = client.watch(WIDGETS, 'ops', { resourceVersion: initial.resourceVersion }, {
    onEvent: (type, { object }) => {
      if (type === 'DELETED' || object.status?.phase === 'Ready') return;
      // The operator's reconcile: report the desired replicas as ready.
      void client
        .patch(WIDGETS, 'ops', object.metadata.name!, 'merge', { status: { phase: 'Ready', replicas: object.spec.replicas } }, { subresource: 'status' })
        .then(() => reconciled.add(object.metadata.name!), () => undefined);
    },
    onClose: () => undefined,
  });
  try {
    await server.ok(['apply', '-n', 'ops', '-f', '-'], { input: 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: op1\nspec:\n  size: medium\n  replicas: 3\n' });
    await eventually(async () => {
      const table = await server.ok(['get', 'widget', 'op1', '-n', 'ops']);
      assert.match(table, /op1\s+medium\s+3\s+Ready/);
      // The operator's own patch made it Ready (its answer may reach it after kubectl's read).
      assert.ok(reconciled.has('op1'));
    }, 20_000);
  } finally {
    watch.stop();
    client.close();
  }
});
