import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { services } from '../../src/registry/services.js';
import { nodePorts, serviceIps } from '../../src/registry/common/allocators.js';
import { releaseReplacedAddresses, releaseServiceAddresses } from '../../src/registry/service-addresses.js';
import { ago, create, created, fields, meta, row, update } from './lifecycle.js';

function inServiceCidr(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number);
  return a === 10 && b >= 96 && b <= 111;
}

describe('Service', () => {
  it('defaults a ClusterIP service as upstream and allocates a cluster IP from 10.96.0.0/12', () => {
    const service = created(services, { metadata: meta('web', 'default'), spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
    const spec = service.spec;
    assert.equal(spec.type, 'ClusterIP');
    assert.equal(spec.sessionAffinity, 'None');
    assert.equal(spec.internalTrafficPolicy, 'Cluster');
    assert.equal(spec.ipFamilyPolicy, 'SingleStack');
    assert.deepEqual(spec.ipFamilies, ['IPv4']);
    assert.deepEqual(spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);
    assert.ok(inServiceCidr(spec.clusterIP), spec.clusterIP);
    assert.notEqual(spec.clusterIP, '10.96.0.0');
    assert.deepEqual(spec.clusterIPs, [spec.clusterIP]);
    assert.equal(spec.externalTrafficPolicy, undefined);
    assert.deepEqual(service.status, { loadBalancer: {} });
    assert.equal(serviceIps.ownerOf(spec.clusterIP), service.metadata.uid);
  });

  it('allocates node ports in 30000-32767 for NodePort services and prints them as port:nodePort/protocol', () => {
    const service = created(services, {
      metadata: { ...meta('np', 'default'), creationTimestamp: ago(9 * 3600 + 1800) },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP' }] },
    });
    assert.equal(service.spec.externalTrafficPolicy, 'Cluster');
    const [http, dns] = service.spec.ports;
    assert.equal(http.nodePort, 30080);
    assert.ok(dns.nodePort >= 30000 && dns.nodePort <= 32767, String(dns.nodePort));
    const cells = row(services, service);
    assert.equal(cells['Type'], 'NodePort');
    assert.equal(cells['Cluster-IP'], service.spec.clusterIP);
    assert.equal(cells['External-IP'], '<none>');
    assert.equal(cells['Port(s)'], `80:30080/TCP,53:${dns.nodePort}/UDP`);
    assert.equal(cells['Age'], '9h');
    assert.equal(cells['Selector'], 'app=web');
  });

  it('rejects a node port or cluster IP held by another service, and frees them on release', () => {
    const first = created(services, { metadata: meta('first', 'default'), spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 31001 }], clusterIP: '10.96.0.50' } });
    const second = create(services, { metadata: meta('second', 'default'), spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 31001 }], clusterIP: '10.96.0.50' } });
    assert.deepEqual(fields(second.errors), ['spec.clusterIPs', 'spec.ports[0].nodePort']);
    assert.match(second.errors[0].detail, /provided IP is already allocated/);
    assert.match(second.errors[1].detail, /provided port is already allocated/);
    releaseServiceAddresses(first);
    assert.equal(nodePorts.ownerOf(31001), undefined);
    assert.equal(serviceIps.ownerOf('10.96.0.50'), undefined);
    assert.deepEqual(create(services, { metadata: meta('third', 'default'), spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 31001 }], clusterIP: '10.96.0.50' } }).errors, []);
  });

  it('rejects cluster IPs outside the service range and node ports outside the node port range', () => {
    const { errors } = create(services, { metadata: meta('out', 'default'), spec: { type: 'NodePort', clusterIP: '192.168.1.1', ports: [{ port: 80, nodePort: 8080 }] } });
    assert.deepEqual(fields(errors), ['spec.clusterIPs', 'spec.ports[0].nodePort']);
    assert.match(errors[0].detail, /The range of valid IPs is 10\.96\.0\.0\/12/);
    assert.match(errors[1].detail, /The range of valid ports is 30000-32767/);
  });

  it('keeps allocated values on update when the client omits them, and forbids changing the cluster IP', () => {
    const old = created(services, { metadata: meta('keep', 'default'), spec: { type: 'NodePort', ports: [{ port: 80 }] } });
    const kept = update(services, old, { metadata: meta('keep', 'default'), spec: { type: 'NodePort', ports: [{ port: 80 }] } });
    assert.deepEqual(kept.errors, []);
    assert.equal(kept.object.spec.clusterIP, old.spec.clusterIP);
    assert.equal(kept.object.spec.ports[0].nodePort, old.spec.ports[0].nodePort);

    const changed = update(services, old, { metadata: meta('keep', 'default'), spec: { type: 'NodePort', clusterIP: '10.96.0.77', ports: [{ port: 80 }] } });
    assert.ok(fields(changed.errors).includes('spec.clusterIPs[0]'));
    assert.match(changed.errors.find((e) => e.field === 'spec.clusterIPs[0]')!.detail, /may not change once set/);
    // The failed update gives back what it claimed, and only that.
    releaseReplacedAddresses(old, changed.object);
    assert.equal(serviceIps.ownerOf('10.96.0.77'), undefined);
    assert.equal(serviceIps.ownerOf(old.spec.clusterIP), old.metadata.uid);
  });

  it('frees node ports when a service is changed back to ClusterIP', () => {
    const old = created(services, { metadata: meta('shrink', 'default'), spec: { type: 'NodePort', ports: [{ port: 80 }] } });
    const port = old.spec.ports[0].nodePort;
    const next = update(services, old, { metadata: meta('shrink', 'default'), spec: { type: 'ClusterIP', ports: [{ port: 80 }] } });
    assert.deepEqual(next.errors, []);
    releaseReplacedAddresses(next.object, old);
    assert.equal(nodePorts.ownerOf(port), undefined);
  });

  it('requires ports unless headless, unique port names, and names on multiple ports', () => {
    assert.deepEqual(fields(create(services, { metadata: meta('a', 'default'), spec: {} }).errors), ['spec.ports']);
    assert.deepEqual(create(services, { metadata: meta('h', 'default'), spec: { clusterIP: 'None', selector: { app: 'db' } } }).errors, []);
    const { errors } = create(services, { metadata: meta('b', 'default'), spec: { ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }, { port: 82 }, { name: 'x', port: 70000 }] } });
    // targetPort defaults to the (invalid) port, so it is reported too, as upstream does.
    assert.deepEqual(fields(errors), ['spec.ports[1].name', 'spec.ports[2].name', 'spec.ports[3].port', 'spec.ports[3].targetPort']);
    assert.equal(errors[0].type, 'FieldValueDuplicate');
    assert.equal(errors[1].detail, 'Required value');
  });

  it('forbids node ports on ClusterIP services and validates ExternalName', () => {
    const np = create(services, { metadata: meta('c', 'default'), spec: { ports: [{ port: 80, nodePort: 30001 }] } });
    assert.deepEqual(fields(np.errors), ['spec.ports[0].nodePort']);
    assert.equal(np.errors[0].detail, "Forbidden: may not be used when `type` is 'ClusterIP'");
    const external = create(services, { metadata: meta('ext', 'default'), spec: { type: 'ExternalName' } });
    assert.deepEqual(fields(external.errors), ['spec.externalName']);
    const ok = created(services, { metadata: meta('ext2', 'default'), spec: { type: 'ExternalName', externalName: 'db.example.com' } });
    assert.equal(ok.spec.clusterIP, undefined);
    assert.equal(ok.spec.internalTrafficPolicy, undefined);
    const cells = row(services, ok);
    assert.equal(cells['Cluster-IP'], '<none>');
    assert.equal(cells['External-IP'], 'db.example.com');
    assert.equal(cells['Port(s)'], '<none>');
  });

  it('gives headless services without a selector a dual-stack-capable family policy', () => {
    const headless = created(services, { metadata: meta('hl', 'default'), spec: { clusterIP: 'None' } });
    assert.equal(headless.spec.ipFamilyPolicy, 'RequireDualStack');
    assert.deepEqual(headless.spec.clusterIPs, ['None']);
    assert.equal(row(services, headless)['Cluster-IP'], 'None');
  });

  it('prints load balancer addresses, or <pending> until there is one', () => {
    const lb = created(services, { metadata: meta('lb', 'default'), spec: { type: 'LoadBalancer', ports: [{ port: 443 }] } });
    assert.equal(lb.spec.allocateLoadBalancerNodePorts, true);
    assert.equal(row(services, lb)['External-IP'], '<pending>');
    lb.status = { loadBalancer: { ingress: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.com' }] } };
    assert.equal(row(services, lb)['External-IP'], '203.0.113.7,lb.example.com');
  });

  it('defaults session affinity timeout for ClientIP', () => {
    const sticky = created(services, { metadata: meta('sticky', 'default'), spec: { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } });
    assert.deepEqual(sticky.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  });

  it('selects by spec.type and spec.clusterIP', () => {
    const service = created(services, { metadata: meta('sel', 'default'), spec: { ports: [{ port: 80 }] } });
    assert.equal(services.fieldSelectors?.['spec.type']?.(service), 'ClusterIP');
    assert.equal(services.fieldSelectors?.['spec.clusterIP']?.(service), service.spec.clusterIP);
  });
});

describe('Service address exhaustion', () => {
  it('reports a full node port range instead of accepting a NodePort service without a port', () => {
    const held: number[] = [];
    for (let port = 30000; port <= 32767; port++) if (nodePorts.claim(port, 'filler')) held.push(port);
    try {
      const { errors } = create(services, { metadata: meta('late', 'default'), spec: { type: 'NodePort', ports: [{ port: 80 }] } });
      assert.deepEqual(fields(errors), ['spec.ports[0].nodePort']);
      assert.match(errors[0].detail, /range is full/);
    } finally {
      for (const port of held) nodePorts.release(port, 'filler');
    }
  });
});
