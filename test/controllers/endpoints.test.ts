/**
 * The Endpoints and EndpointSlice controllers, running in the real controller manager over the
 * in-process registry and store: addresses from pods matching the selector, ready and not
 * ready, named and numeric targetPorts, publishNotReadyAddresses, headless hostnames, the
 * 100-endpoint slice limit, labels and ownership, placeholders, and selectorless Services left alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Obj } from '../../src/client/api-client.js';
import { ENDPOINTS, ENDPOINT_SLICES, NODES, PODS, SERVICES } from '../../src/client/resource-types.js';
import { endpointsController } from '../../src/controllers/endpoints.js';
import { endpointSliceController, MANAGED_BY, MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from '../../src/controllers/endpointslice.js';
import { eventually, runControllers, type RunningCluster } from './fixture.js';

let cluster: RunningCluster;
let ipCounter = 1;

function podSpec(name: string, labels: Record<string, string>, extra: { node?: string; hostname?: string; subdomain?: string; ports?: unknown[] } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      nodeName: extra.node,
      hostname: extra.hostname,
      subdomain: extra.subdomain,
      containers: [{ name: 'web', image: 'nginx', ports: extra.ports ?? [{ name: 'http', containerPort: 8080 }] }],
    },
  } as Obj;
}

/** Creates a pod and reports it running with an IP, Ready or not, as a kubelet would. */
async function runningPod(namespace: string, name: string, labels: Record<string, string>, options: { ready?: boolean; node?: string; hostname?: string; subdomain?: string; ports?: unknown[] } = {}): Promise<Obj> {
  await cluster.client.create(PODS, namespace, podSpec(name, labels, options));
  const ip = `10.244.${Math.floor(ipCounter / 250)}.${(ipCounter++ % 250) + 1}`;
  return cluster.client.mutate(
    PODS,
    namespace,
    name,
    (pod) => {
      pod.status = { ...pod.status, phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }] };
      return pod;
    },
    { subresource: 'status' },
  );
}

async function setReady(namespace: string, name: string, ready: boolean): Promise<void> {
  await cluster.client.mutate(PODS, namespace, name, (pod) => ({ ...pod, status: { ...pod.status, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }), { subresource: 'status' });
}

async function service(namespace: string, name: string, spec: Obj['spec'], labels?: Record<string, string>): Promise<Obj> {
  return cluster.client.create(SERVICES, namespace, { apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec } as Obj);
}

async function slicesOf(namespace: string, name: string): Promise<Obj[]> {
  return (await cluster.client.list(ENDPOINT_SLICES, namespace, { labelSelector: `${SERVICE_NAME_LABEL}=${name}` })).items;
}

const ips = (addresses: Obj[] | undefined) => (addresses ?? []).map((a) => a.ip).sort();

before(async () => {
  cluster = await runControllers([endpointsController, endpointSliceController], { namespaces: ['default', 'eps', 'slices', 'headless', 'big', 'plain'] });
  await cluster.client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-1' } } } as Obj);
});
after(() => cluster.stop());

describe('Endpoints controller', () => {
  it('lists ready pods under addresses and the others under notReadyAddresses, and follows readiness', async () => {
    await runningPod('eps', 'a', { app: 'web' }, { node: 'node-a' });
    await runningPod('eps', 'b', { app: 'web' }, { ready: false });
    await runningPod('eps', 'other', { app: 'db' });
    const svc = await service('eps', 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9090, targetPort: 9090 }] }, { team: 'x' });
    const [a, b] = await Promise.all(['a', 'b'].map((n) => cluster.client.get(PODS, 'eps', n)));
    const endpoints = await eventually(async () => {
      const e = await cluster.client.get(ENDPOINTS, 'eps', 'web');
      assert.equal(e.subsets?.length, 1);
      return e;
    });
    assert.deepEqual(endpoints.metadata.labels, { team: 'x' });
    const [subset] = endpoints.subsets;
    assert.deepEqual(ips(subset.addresses), [a.status.podIP]);
    assert.deepEqual(ips(subset.notReadyAddresses), [b.status.podIP]);
    assert.deepEqual(subset.addresses[0].targetRef, { kind: 'Pod', namespace: 'eps', name: 'a', uid: a.metadata.uid });
    assert.equal(subset.addresses[0].nodeName, 'node-a');
    // Named targetPort resolved on the pod (8080), numeric taken as given.
    assert.deepEqual(subset.ports.map((p: Obj) => [p.name, p.port, p.protocol]).sort(), [['http', 8080, 'TCP'], ['metrics', 9090, 'TCP']]);
    assert.ok(svc.metadata.uid);

    await setReady('eps', 'b', true);
    await eventually(async () => {
      const e = await cluster.client.get(ENDPOINTS, 'eps', 'web');
      assert.deepEqual(ips(e.subsets[0].addresses), [a.status.podIP, b.status.podIP].sort());
      assert.equal(e.subsets[0].notReadyAddresses, undefined);
    });
    await cluster.client.delete(PODS, 'eps', 'a', { gracePeriodSeconds: 0 });
    await eventually(async () => assert.deepEqual(ips((await cluster.client.get(ENDPOINTS, 'eps', 'web')).subsets[0].addresses), [b.status.podIP]));
  });

  it('a pod without the named port is left out of that port; pods of other subsets group by port set', async () => {
    await runningPod('eps', 'named', { app: 'mixed' }, { ports: [{ name: 'web', containerPort: 8000 }] });
    await runningPod('eps', 'unnamed', { app: 'mixed' }, { ports: [] });
    await service('eps', 'mixed', { selector: { app: 'mixed' }, ports: [{ port: 80, targetPort: 'web' }] });
    const named = await cluster.client.get(PODS, 'eps', 'named');
    await eventually(async () => {
      const e = await cluster.client.get(ENDPOINTS, 'eps', 'mixed');
      assert.equal(e.subsets.length, 1);
      assert.deepEqual(ips(e.subsets[0].addresses), [named.status.podIP]);
      assert.deepEqual(e.subsets[0].ports, [{ port: 8000, protocol: 'TCP' }]);
    });
  });

  it('publishNotReadyAddresses lists every pod as ready, and a terminating one too', async () => {
    await runningPod('eps', 'slow', { app: 'peer' }, { ready: false, node: 'node-a' });
    await service('eps', 'peer', { selector: { app: 'peer' }, publishNotReadyAddresses: true, ports: [{ port: 80 }] });
    const slow = await cluster.client.get(PODS, 'eps', 'slow');
    await eventually(async () => assert.deepEqual(ips((await cluster.client.get(ENDPOINTS, 'eps', 'peer')).subsets?.[0]?.addresses), [slow.status.podIP]));
    // Graceful deletion: the pod stays, terminating, and stays listed.
    assert.ok(await cluster.client.delete(PODS, 'eps', 'slow'));
    await eventually(async () => {
      const slices = await slicesOf('eps', 'peer');
      assert.deepEqual(slices[0].endpoints[0].conditions, { ready: true, serving: false, terminating: true });
    });
    assert.deepEqual(ips((await cluster.client.get(ENDPOINTS, 'eps', 'peer')).subsets[0].addresses), [slow.status.podIP]);
  });

  it('Services without a selector are left alone, and a deleted Service takes its Endpoints along', async () => {
    await cluster.client.create(ENDPOINTS, 'plain', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ port: 5432 }] }] } as Obj);
    await service('plain', 'manual', { ports: [{ port: 5432 }] });
    await service('plain', 'selected', { selector: { app: 'none' }, ports: [{ port: 80 }] });
    await eventually(async () => assert.equal((await cluster.client.get(ENDPOINTS, 'plain', 'selected')).subsets, undefined));
    assert.deepEqual(ips((await cluster.client.get(ENDPOINTS, 'plain', 'manual')).subsets[0].addresses), ['192.0.2.1']);
    assert.deepEqual(await slicesOf('plain', 'manual'), [], 'no slices for a selectorless Service');
    await cluster.client.delete(SERVICES, 'plain', 'selected');
    await eventually(async () => assert.equal((await cluster.client.list(ENDPOINTS, 'plain')).items.filter((e) => e.metadata.name === 'selected').length, 0));
  });
});

describe('EndpointSlice controller', () => {
  it('one slice with ready/serving/terminating, targetRef, nodeName, zone, labels and a controller owner', async () => {
    await runningPod('slices', 'p1', { app: 'web' }, { node: 'node-a' });
    await runningPod('slices', 'p2', { app: 'web' }, { ready: false, node: 'node-a' });
    const svc = await service('slices', 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }, { team: 'y' });
    const slice = await eventually(async () => {
      const slices = await slicesOf('slices', 'web');
      assert.equal(slices.length, 1);
      assert.equal(slices[0].endpoints.length, 2);
      return slices[0];
    });
    assert.match(slice.metadata.name!, /^web-[a-z0-9]{5}$/);
    assert.deepEqual(slice.metadata.labels, { team: 'y', [SERVICE_NAME_LABEL]: 'web', [MANAGED_BY_LABEL]: MANAGED_BY });
    assert.deepEqual(slice.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(slice.addressType, 'IPv4');
    assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const byName = Object.fromEntries(slice.endpoints.map((e: Obj) => [e.targetRef.name, e]));
    assert.deepEqual(byName.p1.conditions, { ready: true, serving: true, terminating: false });
    assert.deepEqual(byName.p2.conditions, { ready: false, serving: false, terminating: false });
    assert.equal(byName.p1.nodeName, 'node-a');
    assert.equal(byName.p1.zone, 'zone-1');
  });

  it('a Service without endpoints keeps one empty placeholder slice', async () => {
    await service('slices', 'empty', { selector: { app: 'nothing' }, ports: [{ port: 80 }] });
    const slice = await eventually(async () => {
      const slices = await slicesOf('slices', 'empty');
      assert.equal(slices.length, 1);
      return slices[0];
    });
    assert.deepEqual(slice.endpoints ?? [], []);
    await runningPod('slices', 'arrives', { app: 'nothing' });
    await eventually(async () => {
      const slices = await slicesOf('slices', 'empty');
      assert.equal(slices.length, 1);
      assert.equal(slices[0].metadata.name, slice.metadata.name, 'the placeholder is reused');
      assert.equal(slices[0].endpoints?.length, 1);
    });
  });

  it('headless: hostname for pods naming the Service as subdomain, the headless label, and no ports needed', async () => {
    await runningPod('headless', 'db-0', { app: 'db' }, { hostname: 'db-0', subdomain: 'db' });
    await runningPod('headless', 'db-x', { app: 'db' }, { hostname: 'other', subdomain: 'elsewhere' });
    await service('headless', 'db', { clusterIP: 'None', selector: { app: 'db' } });
    await eventually(async () => {
      const e = await cluster.client.get(ENDPOINTS, 'headless', 'db');
      assert.equal(e.metadata.labels?.['service.kubernetes.io/headless'], '');
      const hostnames = Object.fromEntries(e.subsets[0].addresses.map((a: Obj) => [a.targetRef.name, a.hostname]));
      assert.deepEqual(hostnames, { 'db-0': 'db-0', 'db-x': undefined });
      assert.equal(e.subsets[0].ports, undefined);
      const [slice] = await slicesOf('headless', 'db');
      assert.equal(slice.metadata.labels?.['service.kubernetes.io/headless'], '');
      assert.equal(slice.endpoints.find((ep: Obj) => ep.targetRef.name === 'db-0').hostname, 'db-0');
    });
  });

  it('at most 100 endpoints per slice; scaling down empties slices and writes few', async () => {
    const names = Array.from({ length: 230 }, (_, i) => `p${i}`);
    for (const name of names) await runningPod('big', name, { app: 'big' });
    await service('big', 'big', { selector: { app: 'big' }, ports: [{ port: 80, targetPort: 8080 }] });
    const all = await eventually(async () => {
      const slices = await slicesOf('big', 'big');
      const count = slices.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0);
      assert.equal(count, 230);
      return slices;
    });
    assert.equal(all.length, 3);
    assert.ok(all.every((s) => s.endpoints.length <= 100), `sizes ${all.map((s) => s.endpoints.length)}`);
    const endpoints = await cluster.client.get(ENDPOINTS, 'big', 'big');
    assert.equal(endpoints.subsets[0].addresses.length, 230);

    for (const name of names.slice(0, 200)) await cluster.client.delete(PODS, 'big', name);
    const remaining = await eventually(async () => {
      const slices = await slicesOf('big', 'big');
      assert.equal(slices.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0), 30);
      assert.equal(slices.filter((s) => (s.endpoints ?? []).length > 0).length, slices.length, 'no empty slice stays');
      return slices;
    });
    assert.ok(remaining.length <= 2, `${remaining.length} slices for 30 endpoints`);
  });

  it('a deleted Service takes its slices along', async () => {
    await service('slices', 'gone', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    await eventually(async () => assert.equal((await slicesOf('slices', 'gone')).length, 1));
    await cluster.client.delete(SERVICES, 'slices', 'gone');
    await eventually(async () => assert.equal((await slicesOf('slices', 'gone')).length, 0));
  });

  it('a slice edited by someone else is put back', async () => {
    const [slice] = await slicesOf('slices', 'web');
    await cluster.client.update(ENDPOINT_SLICES, 'slices', slice.metadata.name!, { ...slice, endpoints: [] });
    await eventually(async () => assert.equal((await slicesOf('slices', 'web'))[0].endpoints?.length, 2));
  });
});
