/**
 * A hand-written slice of the apps/v1 Deployment schema with the list and map semantics
 * upstream declares: containers keyed by name, ports by containerPort+protocol (protocol
 * defaulting to TCP), env by strategic merge key only, finalizers a set, args atomic, the
 * label selector an atomic map.
 */

import type { ApplySchema } from '../../../src/api/apply/schema.js';

interface Shape {
  properties?: Record<string, ApplySchema>;
  items?: ApplySchema;
  additionalProperties?: ApplySchema;
  patchStrategy?: string;
  patchMergeKey?: string;
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: readonly string[];
  mapType?: 'atomic' | 'granular';
  default?: unknown;
}

class FixtureSchema implements ApplySchema {
  readonly patchStrategy?: string;
  readonly patchMergeKey?: string;
  readonly listType?: 'atomic' | 'set' | 'map';
  readonly listMapKeys?: readonly string[];
  readonly mapType?: 'atomic' | 'granular';
  readonly default?: unknown;

  constructor(private readonly shape: Shape) {
    Object.assign(this, {
      patchStrategy: shape.patchStrategy,
      patchMergeKey: shape.patchMergeKey,
      listType: shape.listType,
      listMapKeys: shape.listMapKeys,
      mapType: shape.mapType,
      default: shape.default,
    });
  }

  property(name: string): ApplySchema | undefined {
    return this.shape.properties && Object.hasOwn(this.shape.properties, name) ? this.shape.properties[name] : undefined;
  }

  items(): ApplySchema | undefined {
    return this.shape.items;
  }

  additionalProperties(): ApplySchema | undefined {
    return this.shape.additionalProperties;
  }
}

const scalar = (extra: Shape = {}) => new FixtureSchema(extra);
const struct = (properties: Record<string, ApplySchema>, extra: Shape = {}) => new FixtureSchema({ properties, ...extra });
const stringMap = () => new FixtureSchema({ additionalProperties: scalar() });
const list = (items: ApplySchema, extra: Shape = {}) => new FixtureSchema({ items, ...extra });

const objectMeta = struct({
  name: scalar(),
  generateName: scalar(),
  namespace: scalar(),
  uid: scalar(),
  resourceVersion: scalar(),
  generation: scalar(),
  creationTimestamp: scalar(),
  labels: stringMap(),
  annotations: stringMap(),
  finalizers: list(scalar(), { listType: 'set', patchStrategy: 'merge' }),
  managedFields: list(struct({ manager: scalar() })),
});

const container = struct({
  name: scalar(),
  image: scalar(),
  args: list(scalar()),
  ports: list(struct({ containerPort: scalar(), protocol: scalar({ default: 'TCP' }), name: scalar() }), {
    listType: 'map',
    listMapKeys: ['containerPort', 'protocol'],
    patchStrategy: 'merge',
    patchMergeKey: 'containerPort',
  }),
  // No x-kubernetes-list-type: the strategic-merge tags make it a map list keyed by name.
  env: list(struct({ name: scalar(), value: scalar() }), { patchStrategy: 'merge', patchMergeKey: 'name' }),
  resources: struct({ limits: stringMap(), requests: stringMap() }),
});

const podSpec = struct({
  containers: list(container, { listType: 'map', listMapKeys: ['name'], patchStrategy: 'merge', patchMergeKey: 'name' }),
  nodeSelector: stringMap(),
  restartPolicy: scalar(),
});

export const deploymentSchema: ApplySchema = struct({
  apiVersion: scalar(),
  kind: scalar(),
  metadata: objectMeta,
  spec: struct({
    replicas: scalar(),
    paused: scalar(),
    selector: struct({ matchLabels: stringMap() }, { mapType: 'atomic' }),
    template: struct({ metadata: objectMeta, spec: podSpec }),
  }),
  status: struct({ replicas: scalar(), readyReplicas: scalar() }),
});

/** A Deployment configuration as a user would apply it. */
export function webDeployment(overrides: { replicas?: number; image?: string } = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, finalizers: ['example.com/guard'] },
    spec: {
      replicas: overrides.replicas ?? 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: overrides.image ?? 'nginx:1.25',
              ports: [{ containerPort: 80 }],
              env: [{ name: 'MODE', value: 'prod' }],
            },
          ],
        },
      },
    },
  };
}
