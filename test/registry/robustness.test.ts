import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { allKinds } from '../../src/registry/catalog.js';
import type { KindStrategy, Obj } from '../../src/registry/strategy.js';

/** Values of the wrong shape a client may send anywhere. */
const MALFORMED: unknown[] = [null, 'x', 5, -1, true, [], [null], [1], {}, { a: null }];
const TOP_LEVEL = ['spec', 'data', 'binaryData', 'stringData', 'subsets', 'endpoints', 'ports', 'rules', 'subjects', 'roleRef', 'involvedObject', 'regarding', 'template', 'type', 'value', 'provisioner', 'addressType', 'series', 'eventTime', 'secrets', 'aggregationRule', 'revision', 'immutable'];
const IN_SPEC = [
  'selector', 'template', 'ports', 'replicas', 'strategy', 'updateStrategy', 'jobTemplate', 'schedule', 'rules', 'tls', 'defaultBackend', 'limits', 'hard',
  'capacity', 'accessModes', 'resources', 'taints', 'podCIDRs', 'clusterIP', 'type', 'externalIPs', 'finalizers', 'podSelector', 'ingress', 'egress',
  'policyTypes', 'minAvailable', 'volumeClaimTemplates', 'parameters', 'controller', 'timeZone', 'completions', 'manualSelector', 'claimRef', 'volumeName',
];

function bodies(kind: KindStrategy): Obj[] {
  const metadata = () => ({ name: 'x', uid: 'u-1', ...(kind.namespaced ? { namespace: 'default' } : {}) });
  const result: Obj[] = [];
  for (const value of MALFORMED) {
    for (const key of TOP_LEVEL) result.push({ metadata: metadata(), [key]: value });
    for (const key of IN_SPEC) {
      result.push({ metadata: metadata(), spec: { [key]: value } });
      result.push({ metadata: metadata(), spec: { template: { metadata: value, spec: { [key]: value } }, jobTemplate: { spec: { [key]: value } }, ports: [{ [key]: value }] } });
    }
  }
  return result;
}

/** Runs what the store runs on create and on update; a thrown error would become a 500. */
function exercise(kind: KindStrategy, body: Obj): void {
  const created = structuredClone(body);
  kind.defaults?.(created);
  kind.prepareForCreate?.(created);
  kind.validate?.(created);
  for (const select of Object.values(kind.fieldSelectors ?? {})) select(created);
  const previous = { metadata: structuredClone(body.metadata), spec: {} } as Obj;
  const updated = structuredClone(body);
  kind.defaults?.(updated);
  kind.prepareForUpdate?.(updated, previous);
  kind.validate?.(updated, previous);
}

describe('malformed input', () => {
  for (const kind of allKinds) {
    it(`never throws for ${kind.group || 'core'}/${kind.plural}`, () => {
      for (const body of bodies(kind)) assert.doesNotThrow(() => exercise(kind, body), `${kind.plural}: ${JSON.stringify(body)}`);
    });
  }
});
