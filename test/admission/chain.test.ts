import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdmissionChain, type AdmissionAttributes, type AdmissionPlugin } from '../../src/admission/admission.js';
import { ApiError, errors } from '../../src/api/status.js';
import { allKinds } from '../../src/registry/catalog.js';
import { Registry } from '../../src/registry/registry.js';
import { Store } from '../../src/storage/store.js';
import { InProcessClient } from '../../src/client/in-process.js';
import { CONFIG_MAPS, DEPLOYMENTS, NAMESPACES } from '../../src/client/resource-types.js';

function recordingChain(seen: string[]): AdmissionChain {
  const labeler: AdmissionPlugin = {
    name: 'Labeler',
    admit(a: AdmissionAttributes) {
      seen.push(`admit ${a.operation} ${a.resource.resource} ${a.name} by ${a.user?.name}`);
      if (a.object) a.object.metadata.labels = { ...(a.object.metadata.labels ?? {}), admitted: 'yes' };
    },
  };
  const gate: AdmissionPlugin = {
    name: 'Gate',
    validate(a: AdmissionAttributes) {
      seen.push(`validate ${a.operation} ${a.resource.resource} ${a.name} labels=${a.object?.metadata.labels?.admitted ?? '-'} old=${a.oldObject ? 'yes' : 'no'}`);
      if ((a.object ?? a.oldObject)?.metadata.name === 'refused') throw errors.forbidden(`configmaps "refused" is forbidden: the gate says no`);
    },
  };
  return new AdmissionChain([labeler, gate]);
}

describe('admission chain in the generic store', () => {
  it('mutates before, and validates after, the strategy on create, update and delete, seeing the caller', async () => {
    const seen: string[] = [];
    const registry = new Registry(allKinds, new Store(), { admission: recordingChain(seen) });
    const client = new InProcessClient({ registry, user: { name: 'alice', groups: [] }, fieldManager: 'test' });
    await client.create(NAMESPACES, undefined, { metadata: { name: 'ns' } });
    seen.length = 0;
    const created = await client.create(CONFIG_MAPS, 'ns', { metadata: { name: 'cm' } });
    assert.equal(created.metadata.labels?.admitted, 'yes');
    await client.mutate(CONFIG_MAPS, 'ns', 'cm', (cm) => ({ ...cm, metadata: { ...cm.metadata, labels: {} }, data: { a: '1' } }));
    await client.delete(CONFIG_MAPS, 'ns', 'cm');
    assert.deepEqual(seen, [
      'admit CREATE configmaps cm by alice',
      'validate CREATE configmaps cm labels=yes old=no',
      'admit UPDATE configmaps cm by alice',
      'validate UPDATE configmaps cm labels=yes old=yes',
      'validate DELETE configmaps cm labels=- old=yes',
    ]);
  });

  it('stores nothing a validating plugin refuses', async () => {
    const registry = new Registry(allKinds, new Store(), { admission: recordingChain([]) });
    const client = new InProcessClient({ registry, user: { name: 'alice', groups: [] }, fieldManager: 'test' });
    await client.create(NAMESPACES, undefined, { metadata: { name: 'ns' } });
    await assert.rejects(client.create(CONFIG_MAPS, 'ns', { metadata: { name: 'refused' } }), (e) => e instanceof ApiError && e.code === 403);
    await assert.rejects(client.get(CONFIG_MAPS, 'ns', 'refused'), (e) => e instanceof ApiError && e.code === 404);
  });

  it('bumps generation for a spec change a mutating plugin makes', async () => {
    const bumpReplicas: AdmissionPlugin = {
      name: 'Bump',
      admit(a) {
        if (a.operation === 'UPDATE' && a.object) a.object.spec.replicas = 7;
      },
    };
    const registry = new Registry(allKinds, new Store(), { admission: new AdmissionChain([bumpReplicas]) });
    const client = new InProcessClient({ registry, user: { name: 'alice', groups: [] }, fieldManager: 'test' });
    await client.create(NAMESPACES, undefined, { metadata: { name: 'ns' } });
    const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    await client.create(DEPLOYMENTS, 'ns', { metadata: { name: 'd' }, spec: { replicas: 1, selector: { matchLabels: { app: 'a' } }, template } });
    const updated = await client.mutate(DEPLOYMENTS, 'ns', 'd', (d) => ({ ...d, metadata: { ...d.metadata, labels: { touched: 'yes' } } }));
    assert.equal(updated.spec.replicas, 7);
    assert.equal(updated.metadata.generation, 2);
  });
});
