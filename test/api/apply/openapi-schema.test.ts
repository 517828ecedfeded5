import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { applyConfiguration, fieldSetFromObject, withManagedFields } from '../../../src/api/apply/index.js';
import { schemaFromOpenApi, type OpenApiSchemaObject } from '../../../src/api/patch/schema.js';
import { webDeployment } from './deployment-schema.fixture.js';

// The definitions the server publishes; apply must read list semantics from them unaided.
const definitions = (
  JSON.parse(readFileSync(path.resolve('src/api/openapi/generated/definitions.json'), 'utf8')) as {
    definitions: Record<string, OpenApiSchemaObject>;
  }
).definitions;
const deployment = schemaFromOpenApi(definitions, 'io.k8s.api.apps.v1.Deployment');

describe('apply with the published OpenAPI schema', () => {
  it('keys containers by name, ports by containerPort+protocol, env by name; finalizers form a set', () => {
    const fields = fieldSetFromObject(webDeployment(), deployment).toFieldsV1() as Record<string, any>;
    assert.deepEqual(fields['f:metadata']['f:finalizers'], { 'v:"example.com/guard"': {} });
    assert.equal(
      JSON.stringify(fields['f:spec']['f:template']['f:spec']['f:containers']),
      JSON.stringify({
        'k:{"name":"nginx"}': {
          '.': {},
          'f:env': { 'k:{"name":"MODE"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
          'f:image': {},
          'f:name': {},
          'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
        },
      }),
    );
  });

  it('matches a port the server defaulted to TCP with the same port applied without protocol', () => {
    const created = applyConfiguration({ live: undefined, applied: webDeployment(), manager: 'kubectl', force: false, schema: deployment, apiVersion: 'apps/v1', now: '2026-11-22T05:00:00Z' });
    assert.equal(created.outcome, 'applied');
    if (created.outcome !== 'applied') return;
    const live = withManagedFields(created.object, created.managedFields);
    (live.spec as any).template.spec.containers[0].ports[0].protocol = 'TCP';
    const again = applyConfiguration({ live, applied: webDeployment(), manager: 'kubectl', force: false, schema: deployment, apiVersion: 'apps/v1', now: '2026-11-22T05:01:00Z' });
    assert.equal(again.outcome, 'applied');
    if (again.outcome !== 'applied') return;
    assert.deepEqual((again.object.spec as any).template.spec.containers[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
    assert.equal(again.changed, false);
  });
});
