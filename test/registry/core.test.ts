import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { namespaces } from '../../src/registry/namespaces.js';
import { nodes } from '../../src/registry/nodes.js';
import { configMaps } from '../../src/registry/configmaps.js';
import { secrets } from '../../src/registry/secrets.js';
import { serviceAccounts } from '../../src/registry/serviceaccounts.js';
import { events, eventsV1 } from '../../src/registry/events.js';
import { endpoints, endpointSlices } from '../../src/registry/endpoints.js';
import { persistentVolumeClaims, persistentVolumes } from '../../src/registry/persistent-volumes.js';
import { limitRanges, resourceQuotas } from '../../src/registry/limits-and-quotas.js';
import { podTemplates } from '../../src/registry/pod-templates.js';
import { CREATED_AGE, ago, create, created, fields, meta, podTemplate, row, update } from './lifecycle.js';

describe('Namespace', () => {
  it('starts Active with the kubernetes finalizer and its name label', () => {
    const namespace = created(namespaces, { metadata: meta('team-a') });
    assert.deepEqual(namespace.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(namespace.status, { phase: 'Active' });
    assert.deepEqual(namespace.metadata.labels, { 'kubernetes.io/metadata.name': 'team-a' });
    assert.equal(row(namespaces, namespace)['Status'], 'Active');
    assert.equal(namespaces.fieldSelectors?.['status.phase']?.(namespace), 'Active');
  });

  it('keeps spec.finalizers out of reach of plain updates and waits for them on delete', () => {
    const namespace = created(namespaces, { metadata: meta('team-a') });
    const { object } = update(namespaces, namespace, { metadata: meta('team-a'), spec: { finalizers: [] } });
    assert.deepEqual(object.spec.finalizers, ['kubernetes']);
    assert.equal(namespaces.blocksDeletion?.(object), true);
    namespaces.prepareForDelete?.(object);
    assert.equal(object.status.phase, 'Terminating');
    assert.equal(namespaces.blocksDeletion?.({ ...object, spec: { finalizers: [] } }), false);
  });
});

describe('Node', () => {
  const node = {
    metadata: { ...meta('worker-1'), labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/worker': '' } },
    spec: { podCIDR: '10.244.1.0/24', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [{ type: 'InternalIP', address: '192.168.0.11' }, { type: 'Hostname', address: 'worker-1' }],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Ubuntu 24.04 LTS', kernelVersion: '6.8.0', containerRuntimeVersion: 'containerd://1.7.22' },
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
    },
  };

  it('keeps its status on create and defaults allocatable to capacity', () => {
    const registered = created(nodes, node);
    assert.deepEqual(registered.status.allocatable, { cpu: '4', memory: '16Gi', pods: '110' });
    assert.deepEqual(registered.spec.podCIDRs, ['10.244.1.0/24']);
  });

  it('prints STATUS, ROLES, VERSION and the wide columns', () => {
    const printed = row(nodes, created(nodes, node));
    assert.equal(printed['Status'], 'Ready');
    assert.equal(printed['Roles'], 'control-plane,worker');
    assert.equal(printed['Version'], 'v1.32.0');
    assert.equal(printed['Internal-IP'], '192.168.0.11');
    assert.equal(printed['External-IP'], '<none>');
    assert.equal(printed['OS-Image'], 'Ubuntu 24.04 LTS');
    assert.equal(printed['Container-Runtime'], 'containerd://1.7.22');
    const cordoned = created(nodes, { ...node, metadata: meta('w2'), spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'False' }] } });
    assert.equal(row(nodes, cordoned)['Status'], 'NotReady,SchedulingDisabled');
    assert.equal(row(nodes, cordoned)['Roles'], '<none>');
    assert.equal(row(nodes, cordoned)['Kernel-Version'], '<unknown>');
    assert.equal(nodes.fieldSelectors?.['spec.unschedulable']?.(cordoned), 'true');
  });

  it('validates taints and pod CIDRs, and freezes podCIDR once set', () => {
    const { errors } = create(nodes, { metadata: meta('bad'), spec: { podCIDR: '10.0.0.0/99', taints: [{ key: 'a', effect: 'Sometimes' }] } });
    assert.deepEqual(fields(errors), ['spec.taints[0].effect', 'spec.podCIDRs[0]']);
    const old = created(nodes, node);
    assert.deepEqual(fields(update(nodes, old, { ...node, spec: { podCIDR: '10.244.2.0/24' } }).errors), ['spec.podCIDRs']);
    assert.deepEqual(update(nodes, old, { ...node, spec: { ...node.spec, unschedulable: true } }).errors, []);
  });
});

describe('ConfigMap', () => {
  it('validates keys, rejects keys in both data and binaryData, and honours immutable', () => {
    const { errors } = create(configMaps, { metadata: meta('cfg', 'default'), data: { 'ok.key': 'v', 'bad key': 'v', '..x': 'v', both: 'v' }, binaryData: { both: 'AAEC' } });
    assert.deepEqual(fields(errors), ['data[bad key]', 'data[..x]', 'data[both]']);
    assert.match(errors[1].detail, /must not start with '\.\.'/);
    const frozen = created(configMaps, { metadata: meta('cfg', 'default'), data: { a: '1' }, immutable: true });
    assert.deepEqual(fields(update(configMaps, frozen, { metadata: meta('cfg', 'default'), data: { a: '2' } }).errors), ['immutable', 'data']);
  });

  it('counts data and binaryData keys in DATA', () => {
    const configMap = created(configMaps, { metadata: meta('cfg', 'default'), data: { a: '1', b: '2' }, binaryData: { c: 'AAEC' } });
    assert.equal(row(configMaps, configMap)['Data'], 3);
  });

  it('refuses more than 1 MiB', () => {
    const { errors } = create(configMaps, { metadata: meta('big', 'default'), data: { big: 'x'.repeat(1024 * 1024) } });
    assert.deepEqual(errors.map((e) => e.type), ['FieldValueTooLong']);
  });
});

describe('Secret', () => {
  it('defaults the type to Opaque and merges stringData into base64 data', () => {
    const secret = created(secrets, { metadata: meta('creds', 'default'), data: { user: 'YWRtaW4=' }, stringData: { password: 's3cr3t', user: 'root' } });
    assert.equal(secret.type, 'Opaque');
    assert.deepEqual(secret.data, { user: 'cm9vdA==', password: 'czNjcjN0' });
    assert.equal(secret.stringData, undefined);
    assert.deepEqual(row(secrets, secret), { Type: 'Opaque', Data: 2, Age: CREATED_AGE });
    assert.equal(secrets.fieldSelectors?.type?.(secret), 'Opaque');
  });

  it('rejects non-base64 data, bad keys and missing keys of typed secrets', () => {
    const { errors } = create(secrets, { metadata: meta('bad', 'default'), data: { 'a b': 'YQ==', plain: 'not base64!' } });
    assert.deepEqual(fields(errors), ['data[a b]', 'data[plain]']);
    const tls = create(secrets, { metadata: meta('tls', 'default'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==' } });
    assert.deepEqual(fields(tls.errors), ['data[tls.key]']);
    const token = create(secrets, { metadata: meta('tok', 'default'), type: 'kubernetes.io/service-account-token' });
    assert.deepEqual(fields(token.errors), ['metadata.annotations[kubernetes.io/service-account.name]']);
  });

  it('keeps its type immutable', () => {
    const old = created(secrets, { metadata: meta('s', 'default'), data: { a: 'YQ==' } });
    const { errors } = update(secrets, old, { metadata: meta('s', 'default'), type: 'kubernetes.io/basic-auth', data: { username: 'YQ==' } });
    assert.deepEqual(fields(errors), ['type']);
    assert.match(errors[0].detail, /field is immutable/);
  });
});

describe('ServiceAccount', () => {
  it('prints the number of secrets', () => {
    const account = created(serviceAccounts, { metadata: meta('builder', 'default'), secrets: [{ name: 'builder-token' }] });
    assert.equal(row(serviceAccounts, account)['Secrets'], 1);
  });
});

describe('Event', () => {
  const event = {
    metadata: meta('web-1.17f', 'default'),
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u-1', apiVersion: 'v1', fieldPath: 'spec.containers{web}' },
    reason: 'Pulled',
    message: 'Successfully pulled image "nginx:1.27" ',
    source: { component: 'kubelet', host: 'worker-1' },
    firstTimestamp: ago(10 * 3600 + 1800),
    lastTimestamp: ago(20 * 60 + 30),
    count: 3,
    type: 'Normal',
  };

  it('prints LAST SEEN, TYPE, REASON, OBJECT, MESSAGE and the wide columns', () => {
    assert.deepEqual(row(events, created(events, event)), {
      'Last Seen': '20m',
      'Type': 'Normal',
      'Reason': 'Pulled',
      'Object': 'pod/web-1',
      'Subobject': 'spec.containers{web}',
      'Source': 'kubelet, worker-1',
      'Message': 'Successfully pulled image "nginx:1.27"',
      'First Seen': '10h',
      'Count': 3,
      'Name': 'web-1.17f',
    });
    assert.deepEqual(events.columns.filter((c) => !c.priority).map((c) => c.name), ['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
  });

  it('falls back to eventTime and series for new-style events', () => {
    const modern = created(events, {
      metadata: meta('n.1', 'default'),
      involvedObject: { kind: 'Node', name: 'worker-1' },
      eventTime: ago(9 * 3600 + 1800),
      series: { count: 7, lastObservedTime: ago(12 * 60 + 30) },
      reportingComponent: 'kubelet',
      reportingInstance: 'worker-1',
      action: 'Rebooted',
      reason: 'Rebooted',
      type: 'Warning',
    });
    const printed = row(events, modern);
    assert.equal(printed['Last Seen'], '12m');
    assert.equal(printed['First Seen'], '9h');
    assert.equal(printed['Count'], 7);
    assert.equal(printed['Object'], 'node/worker-1');
    assert.equal(printed['Source'], 'kubelet, worker-1');
  });

  it('requires the involved object to live in the event namespace, or "default" when cluster-scoped', () => {
    const { errors } = create(events, { ...event, involvedObject: { ...event.involvedObject, namespace: 'other' } });
    assert.deepEqual(fields(errors), ['involvedObject.namespace']);
    assert.match(errors[0].detail, /does not match event.namespace/);
    assert.deepEqual(create(events, { ...event, involvedObject: { kind: 'Node', name: 'worker-1' }, metadata: meta('n.1', 'default') }).errors, []);
    assert.deepEqual(fields(create(events, { ...event, involvedObject: { kind: 'Node', name: 'worker-1' }, metadata: meta('n.1', 'shop') }).errors), ['involvedObject.namespace']);
  });

  it('requires reporting fields on core events that carry an eventTime', () => {
    const { errors } = create(events, { metadata: meta('n.2', 'default'), involvedObject: { kind: 'Node', name: 'worker-1' }, eventTime: ago(1), type: 'Normal' });
    assert.deepEqual(fields(errors), ['reportingComponent', 'reportingInstance', 'action', 'reason']);
  });

  it('selects by involved object, reason, source and type', () => {
    const stored = created(events, event);
    const selectors = events.fieldSelectors!;
    assert.equal(selectors['involvedObject.name'](stored), 'web-1');
    assert.equal(selectors['involvedObject.kind'](stored), 'Pod');
    assert.equal(selectors['involvedObject.uid'](stored), 'u-1');
    assert.equal(selectors['reason'](stored), 'Pulled');
    assert.equal(selectors['source'](stored), 'kubelet');
    assert.equal(selectors['type'](stored), 'Normal');
  });

  it('reads the events.k8s.io shape for the same table and requires its structured fields', () => {
    const v1 = created(eventsV1, {
      metadata: meta('web-1.18a', 'default'),
      regarding: { kind: 'Pod', namespace: 'default', name: 'web-1' },
      note: 'Started container web',
      reason: 'Started',
      type: 'Normal',
      action: 'Start',
      eventTime: ago(45 * 60 + 30),
      reportingController: 'kubelet',
      reportingInstance: 'worker-1',
    });
    const printed = row(eventsV1, v1);
    assert.equal(printed['Object'], 'pod/web-1');
    assert.equal(printed['Message'], 'Started container web');
    assert.equal(printed['Last Seen'], '45m');
    assert.equal(printed['Count'], 1);
    const incomplete = create(eventsV1, { metadata: meta('e', 'default'), regarding: { kind: 'Pod', namespace: 'default', name: 'x' }, eventTime: ago(1), type: 'Odd', deprecatedCount: 2 });
    assert.deepEqual(fields(incomplete.errors), ['reportingController', 'reportingInstance', 'action', 'reason', 'type', 'deprecatedCount']);
    assert.deepEqual(fields(create(eventsV1, { metadata: meta('e', 'default'), regarding: { kind: 'Pod', namespace: 'default', name: 'x' }, type: 'Normal' }).errors), ['eventTime']);
  });
});

describe('Endpoints and EndpointSlice', () => {
  it('defaults port protocols and prints up to three endpoints', () => {
    const object = created(endpoints, {
      metadata: meta('web', 'default'),
      subsets: [{ addresses: [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }, { ip: '10.244.1.7' }, { ip: '10.244.2.8' }], ports: [{ port: 8080 }] }],
    });
    assert.equal(object.subsets[0].ports[0].protocol, 'TCP');
    assert.equal(row(endpoints, object)['Endpoints'], '10.244.0.5:8080,10.244.0.6:8080,10.244.1.7:8080 + 1 more...');
    assert.equal(row(endpoints, created(endpoints, { metadata: meta('none', 'default') }))['Endpoints'], '<none>');
    assert.deepEqual(fields(create(endpoints, { metadata: meta('bad', 'default'), subsets: [{ addresses: [{ ip: 'nope' }], ports: [{ port: 80 }, { port: 81 }] }] }).errors), [
      'subsets[0].addresses[0].ip',
      'subsets[0].ports[0].name',
      'subsets[0].ports[1].name',
    ]);
  });

  it('validates slices by address type and prints ports and endpoints', () => {
    const slice = created(endpointSlices, {
      metadata: meta('web-abc12', 'default'),
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.0.5'] }, { addresses: ['10.244.0.6'] }],
      ports: [{ name: 'http', port: 8080 }],
    });
    assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.deepEqual(row(endpointSlices, slice), { AddressType: 'IPv4', Ports: '8080', Endpoints: '10.244.0.5,10.244.0.6', Age: CREATED_AGE });
    assert.equal(row(endpointSlices, created(endpointSlices, { metadata: meta('e', 'default'), addressType: 'IPv4' }))['Endpoints'], '<unset>');
    const { errors } = create(endpointSlices, { metadata: meta('bad', 'default'), addressType: 'IPv4', endpoints: [{ addresses: ['fd00::1'] }, { addresses: [] }] });
    assert.deepEqual(fields(errors), ['endpoints[0].addresses[0]', 'endpoints[1].addresses']);
    assert.deepEqual(fields(update(endpointSlices, slice, { ...slice, addressType: 'IPv6', endpoints: [] }).errors), ['addressType']);
  });
});

describe('PersistentVolume and PersistentVolumeClaim', () => {
  const pv = { metadata: meta('pv-1'), spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], hostPath: { path: '/data' }, storageClassName: 'manual' } };

  it('defaults a volume and starts it Pending', () => {
    const volume = created(persistentVolumes, pv);
    assert.equal(volume.spec.persistentVolumeReclaimPolicy, 'Retain');
    assert.equal(volume.spec.volumeMode, 'Filesystem');
    assert.equal(volume.status.phase, 'Pending');
    volume.status.phase = 'Bound';
    volume.spec.claimRef = { namespace: 'default', name: 'data' };
    assert.deepEqual(row(persistentVolumes, volume), {
      'Capacity': '10Gi',
      'Access Modes': 'RWO,ROX',
      'Reclaim Policy': 'Retain',
      'Status': 'Bound',
      'Claim': 'default/data',
      'StorageClass': 'manual',
      'VolumeAttributesClass': '<unset>',
      'Reason': '',
      'Age': CREATED_AGE,
      'VolumeMode': 'Filesystem',
    });
  });

  it('requires capacity, access modes and exactly one volume source', () => {
    const { errors } = create(persistentVolumes, { metadata: meta('pv-2'), spec: {} });
    assert.deepEqual(fields(errors), ['spec.capacity', 'spec.accessModes', 'spec']);
    assert.equal(errors[2].detail, 'Required value: must specify a volume type');
  });

  const pvc = { metadata: meta('data', 'default'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };

  it('defaults a claim, starts it Pending and prints capacity only once bound', () => {
    const claim = created(persistentVolumeClaims, pvc);
    assert.equal(claim.spec.volumeMode, 'Filesystem');
    assert.deepEqual(claim.status, { phase: 'Pending' });
    assert.equal(row(persistentVolumeClaims, claim)['Capacity'], '');
    claim.spec.volumeName = 'pv-1';
    claim.status = { phase: 'Bound', capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'] };
    const printed = row(persistentVolumeClaims, claim);
    assert.deepEqual([printed['Status'], printed['Volume'], printed['Capacity'], printed['Access Modes']], ['Bound', 'pv-1', '10Gi', 'RWO']);
  });

  it('requires access modes and a storage request, and freezes the spec except requests', () => {
    const { errors } = create(persistentVolumeClaims, { metadata: meta('x', 'default'), spec: {} });
    assert.deepEqual(fields(errors), ['spec.accessModes', 'spec.resources[storage]']);
    const old = created(persistentVolumeClaims, pvc);
    assert.deepEqual(update(persistentVolumeClaims, old, { ...pvc, spec: { ...pvc.spec, resources: { requests: { storage: '2Gi' } } } }).errors, []);
    assert.deepEqual(update(persistentVolumeClaims, old, { ...pvc, spec: { ...pvc.spec, volumeName: 'pv-1' } }).errors, []);
    const changed = update(persistentVolumeClaims, old, { ...pvc, spec: { ...pvc.spec, accessModes: ['ReadWriteMany'] } });
    assert.deepEqual(fields(changed.errors), ['spec']);
    assert.match(changed.errors[0].detail, /spec is immutable after creation except resources.requests/);
  });
});

describe('LimitRange and ResourceQuota', () => {
  it('fills container defaults from max and default requests from defaults then min', () => {
    const limitRange = created(limitRanges, { metadata: meta('limits', 'default'), spec: { limits: [{ type: 'Container', max: { cpu: '2', memory: '1Gi' }, min: { cpu: '100m', 'ephemeral-storage': '1Gi' }, default: { cpu: '500m' } }] } });
    const item = limitRange.spec.limits[0];
    assert.deepEqual(item.default, { cpu: '500m', memory: '1Gi' });
    assert.deepEqual(item.defaultRequest, { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '1Gi' });
    assert.deepEqual(Object.keys(row(limitRanges, limitRange)), ['Created At']);
    assert.equal(row(limitRanges, limitRange)['Created At'], limitRange.metadata.creationTimestamp);
    const bad = create(limitRanges, { metadata: meta('l', 'default'), spec: { limits: [{ type: 'Pod', min: { cpu: '2' }, max: { cpu: '1' }, default: { cpu: '1' } }] } });
    assert.deepEqual(fields(bad.errors), ['spec.limits[0].default', 'spec.limits[0].min[cpu]']);
  });

  it('prints quota usage split into requests and limits', () => {
    const quota = created(resourceQuotas, { metadata: meta('q', 'default'), spec: { hard: { pods: '10', 'requests.cpu': '4', 'limits.memory': '8Gi' } } });
    assert.deepEqual(quota.status, {});
    quota.status = { hard: { pods: '10', 'requests.cpu': '4', 'limits.memory': '8Gi' }, used: { pods: '2', 'requests.cpu': '500m' } };
    const printed = row(resourceQuotas, quota);
    assert.equal(printed['Request'], 'pods: 2/10, requests.cpu: 500m/4');
    assert.equal(printed['Limit'], 'limits.memory: 0/8Gi');
    assert.deepEqual(fields(create(resourceQuotas, { metadata: meta('q', 'default'), spec: { hard: { cpu: 'lots' } } }).errors), ['spec.hard[cpu]']);
  });
});

describe('PodTemplate', () => {
  it('defaults and validates its template and prints containers, images and pod labels', () => {
    const template = created(podTemplates, { metadata: meta('t', 'default'), template: podTemplate({ app: 'web', tier: 'front' }) });
    assert.equal(template.template.spec.restartPolicy, 'Always');
    assert.deepEqual(row(podTemplates, template), { 'Containers': 'web', 'Images': 'nginx:1.27', 'Pod Labels': 'app=web,tier=front' });
    assert.deepEqual(fields(create(podTemplates, { metadata: meta('t', 'default') }).errors), ['template']);
  });
});
