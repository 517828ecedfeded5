/**
 * Every strategic-merge-patch strategy upstream declares (the `patchStrategy`/`patchMergeKey`
 * struct tags and `+listType`/`+listMapKey` markers of the Go types in k8s.io/api,
 * apiextensions-apiserver and kube-aggregator, read for v1.34) is in our published OpenAPI v2 and
 * v3 documents and is what our strategic merge patch uses. The table below is our own record
 * of those tags for the GA definitions we serve.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '../../../src/registry/catalog.js';
import { buildKindSchemas } from '../../../src/api/schemas.js';
import { schemaFromOpenApi, type OpenApiSchemaObject } from '../../../src/api/patch/schema.js';
import { applyStrategicMergePatch as strategicMergePatch } from '../../../src/api/patch/strategic-merge.js';

interface Expected {
  strategy: string;
  key?: string;
  listType?: 'map' | 'set' | 'atomic';
  mapKeys?: string[];
}

const CORE = 'io.k8s.api.core.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const merge = (key: string, mapKeys: string[] = [key], strategy = 'merge'): Expected => ({ strategy, key, listType: 'map', mapKeys });
const byType = merge('type');

/** definition → property → upstream's strategy. */
export const UPSTREAM_PATCH_STRATEGIES: Record<string, Record<string, Expected>> = {
  [`${META}.ObjectMeta`]: {
    finalizers: { strategy: 'merge', listType: 'set' },
    ownerReferences: merge('uid'),
  },
  [`${CORE}.PodSpec`]: {
    volumes: merge('name', ['name'], 'merge,retainKeys'),
    initContainers: merge('name'),
    containers: merge('name'),
    ephemeralContainers: merge('name'),
    imagePullSecrets: merge('name'),
    hostAliases: merge('ip'),
    topologySpreadConstraints: merge('topologyKey', ['topologyKey', 'whenUnsatisfiable']),
    schedulingGates: merge('name'),
    resourceClaims: merge('name', ['name'], 'merge,retainKeys'),
  },
  [`${CORE}.Container`]: {
    ports: merge('containerPort', ['containerPort', 'protocol']),
    env: merge('name'),
    volumeMounts: merge('mountPath'),
    volumeDevices: merge('devicePath'),
  },
  [`${CORE}.EphemeralContainer`]: {
    ports: merge('containerPort', ['containerPort', 'protocol']),
    env: merge('name'),
    volumeMounts: merge('mountPath'),
    volumeDevices: merge('devicePath'),
  },
  [`${CORE}.PodStatus`]: {
    conditions: byType,
    podIPs: merge('ip'),
    hostIPs: merge('ip'),
    resourceClaimStatuses: merge('name', ['name'], 'merge,retainKeys'),
  },
  [`${CORE}.ServiceSpec`]: { ports: merge('port', ['port', 'protocol']) },
  [`${CORE}.ServiceStatus`]: { conditions: byType },
  [`${CORE}.ServiceAccount`]: { secrets: { strategy: 'merge', key: 'name' } },
  [`${CORE}.NodeSpec`]: { podCIDRs: { strategy: 'merge', listType: 'set' } },
  [`${CORE}.NodeStatus`]: { conditions: byType, addresses: byType },
  [`${CORE}.NamespaceStatus`]: { conditions: byType },
  [`${CORE}.PersistentVolumeClaimStatus`]: { conditions: byType },
  [`${CORE}.ReplicationControllerStatus`]: { conditions: byType },
  [`${CORE}.ComponentStatus`]: { conditions: { strategy: 'merge', key: 'type' } },
  'io.k8s.api.apps.v1.DeploymentSpec': { strategy: { strategy: 'retainKeys' } },
  'io.k8s.api.apps.v1.DeploymentStatus': { conditions: byType },
  'io.k8s.api.apps.v1.ReplicaSetStatus': { conditions: byType },
  'io.k8s.api.apps.v1.StatefulSetStatus': { conditions: byType },
  'io.k8s.api.apps.v1.DaemonSetStatus': { conditions: byType },
  'io.k8s.api.batch.v1.JobStatus': { conditions: { strategy: 'merge', key: 'type', listType: 'atomic' } },
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus': { conditions: byType },
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': { conditions: byType },
  'io.k8s.api.networking.v1.ServiceCIDRStatus': { conditions: byType },
  'io.k8s.api.storage.v1.CSINodeSpec': { drivers: { strategy: 'merge', key: 'name' } },
  'io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration': { webhooks: merge('name') },
  'io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration': { webhooks: merge('name') },
  'io.k8s.api.resource.v1.ResourceClaimStatus': { reservedFor: merge('uid') },
  'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus': { conditions: byType },
};

const kindSchemas = buildKindSchemas(allKinds);
const v2 = JSON.parse(kindSchemas.openapi.handle('/openapi/v2', new URLSearchParams(), { accept: 'application/json' })!.body.toString()) as {
  definitions: Record<string, OpenApiSchemaObject & { properties?: Record<string, Record<string, unknown>> }>;
};

function extensionsOf(schema: Record<string, unknown>): Expected {
  return {
    strategy: schema['x-kubernetes-patch-strategy'] as string,
    ...(schema['x-kubernetes-patch-merge-key'] ? { key: schema['x-kubernetes-patch-merge-key'] as string } : {}),
    ...(schema['x-kubernetes-list-type'] ? { listType: schema['x-kubernetes-list-type'] as Expected['listType'] } : {}),
    ...(schema['x-kubernetes-list-map-keys'] ? { mapKeys: schema['x-kubernetes-list-map-keys'] as string[] } : {}),
  };
}

/** Only what the expectation names (a strategy without a recorded list type is compared on strategy and key). */
function comparable(actual: Expected, expected: Expected): Expected {
  return Object.fromEntries(Object.keys(expected).map((k) => [k, actual[k as keyof Expected]])) as unknown as Expected;
}

test('the published OpenAPI v2 carries every upstream patch strategy and merge key', () => {
  const missing: string[] = [];
  for (const [definition, properties] of Object.entries(UPSTREAM_PATCH_STRATEGIES)) {
    const schema = v2.definitions[definition];
    if (!schema) continue; // a definition no served kind reaches is not published
    for (const [property, expected] of Object.entries(properties)) {
      const actual = schema.properties?.[property];
      if (!actual) { missing.push(`${definition}.${property}: no such property`); continue; }
      const got = comparable(extensionsOf(actual), expected);
      if (JSON.stringify(got) !== JSON.stringify(expected)) missing.push(`${definition}.${property}: ${JSON.stringify(got)} ≠ ${JSON.stringify(expected)}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('every definition of the table is published (each is reachable from a served kind)', () => {
  const unpublished = Object.keys(UPSTREAM_PATCH_STRATEGIES).filter((d) => !v2.definitions[d]);
  // ServiceCIDR and ResourceClaim are not served: their strategies live in the generated definitions only.
  assert.deepEqual(unpublished.filter((d) => !/ServiceCIDRStatus|ResourceClaimStatus/.test(d)), []);
});

test('the published OpenAPI v3 documents carry the same strategies', () => {
  const discovery = JSON.parse(kindSchemas.openapi.handle('/openapi/v3', new URLSearchParams(), { accept: 'application/json' })!.body.toString()) as {
    paths: Record<string, { serverRelativeURL: string }>;
  };
  const seen = new Set<string>();
  const missing: string[] = [];
  for (const { serverRelativeURL } of Object.values(discovery.paths)) {
    const url = new URL(serverRelativeURL, 'https://x');
    const document = JSON.parse(kindSchemas.openapi.handle(url.pathname, url.searchParams, { accept: 'application/json' })!.body.toString()) as {
      components?: { schemas?: Record<string, { properties?: Record<string, Record<string, unknown>> }> };
    };
    for (const [definition, properties] of Object.entries(UPSTREAM_PATCH_STRATEGIES)) {
      const schema = document.components?.schemas?.[definition];
      if (!schema) continue;
      seen.add(definition);
      for (const [property, expected] of Object.entries(properties)) {
        const got = comparable(extensionsOf(schema.properties?.[property] ?? {}), expected);
        if (JSON.stringify(got) !== JSON.stringify(expected)) missing.push(`${url.pathname} ${definition}.${property}: ${JSON.stringify(got)}`);
      }
    }
  }
  assert.deepEqual(missing, []);
  for (const definition of Object.keys(UPSTREAM_PATCH_STRATEGIES)) {
    if (v2.definitions[definition]) assert.ok(seen.has(definition), `${definition} is in no v3 document`);
  }
});

test('the strategic merge patch walks each published strategy', () => {
  for (const [definition, properties] of Object.entries(UPSTREAM_PATCH_STRATEGIES)) {
    if (!v2.definitions[definition]) continue;
    const schema = schemaFromOpenApi(v2.definitions, definition);
    for (const [property, expected] of Object.entries(properties)) {
      const field = schema.property(property);
      assert.equal(field?.patchStrategy, expected.strategy, `${definition}.${property}`);
      if (expected.key) assert.equal(field?.patchMergeKey, expected.key, `${definition}.${property}`);
    }
  }
});

test('a webhook configuration patch merges webhooks by name (upstream patchMergeKey)', () => {
  const schema = kindSchemas.patchSchema(allKinds.find((k) => k.kind === 'ValidatingWebhookConfiguration')!)!;
  const live = { webhooks: [{ name: 'a.example.com', timeoutSeconds: 10, sideEffects: 'None' }, { name: 'b.example.com', timeoutSeconds: 10 }] };
  const patched = strategicMergePatch(live, { webhooks: [{ name: 'b.example.com', timeoutSeconds: 3 }] }, schema) as typeof live;
  assert.deepEqual(patched.webhooks, [{ name: 'a.example.com', timeoutSeconds: 10, sideEffects: 'None' }, { name: 'b.example.com', timeoutSeconds: 3 }]);
});

test('a CSINode patch merges drivers by name', () => {
  const schema = kindSchemas.patchSchema(allKinds.find((k) => k.kind === 'CSINode')!)!;
  const live = { spec: { drivers: [{ name: 'a', nodeID: 'n1' }, { name: 'b', nodeID: 'n1' }] } };
  const patched = strategicMergePatch(live, { spec: { drivers: [{ name: 'b', nodeID: 'n2' }] } }, schema) as typeof live;
  assert.deepEqual(patched.spec.drivers, [{ name: 'a', nodeID: 'n1' }, { name: 'b', nodeID: 'n2' }]);
});
