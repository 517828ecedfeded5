import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { allKinds } from '../../src/registry/catalog.js';
import { apiVersionOf } from '../../src/registry/strategy.js';

/**
 * `kubectl api-resources` of a 1.32 cluster, for the kinds we serve:
 * name, shortnames, apiVersion, namespaced, kind.
 */
const DISCOVERY = `
bindings                 -        v1                                true   Binding
componentstatuses        cs       v1                                false  ComponentStatus
configmaps               cm       v1                                true   ConfigMap
endpoints                ep       v1                                true   Endpoints
events                   ev       v1                                true   Event
limitranges              limits   v1                                true   LimitRange
namespaces               ns       v1                                false  Namespace
nodes                    no       v1                                false  Node
persistentvolumeclaims   pvc      v1                                true   PersistentVolumeClaim
persistentvolumes        pv       v1                                false  PersistentVolume
pods                     po       v1                                true   Pod
podtemplates             -        v1                                true   PodTemplate
replicationcontrollers   rc       v1                                true   ReplicationController
resourcequotas           quota    v1                                true   ResourceQuota
secrets                  -        v1                                true   Secret
serviceaccounts          sa       v1                                true   ServiceAccount
services                 svc      v1                                true   Service
mutatingwebhookconfigurations -   admissionregistration.k8s.io/v1   false  MutatingWebhookConfiguration
validatingadmissionpolicies -     admissionregistration.k8s.io/v1   false  ValidatingAdmissionPolicy
validatingadmissionpolicybindings - admissionregistration.k8s.io/v1 false  ValidatingAdmissionPolicyBinding
validatingwebhookconfigurations - admissionregistration.k8s.io/v1   false  ValidatingWebhookConfiguration
customresourcedefinitions crd,crds apiextensions.k8s.io/v1          false  CustomResourceDefinition
apiservices              -        apiregistration.k8s.io/v1         false  APIService
controllerrevisions      -        apps/v1                           true   ControllerRevision
daemonsets               ds       apps/v1                           true   DaemonSet
deployments              deploy   apps/v1                           true   Deployment
replicasets              rs       apps/v1                           true   ReplicaSet
statefulsets             sts      apps/v1                           true   StatefulSet
horizontalpodautoscalers hpa     autoscaling/v2                    true   HorizontalPodAutoscaler
cronjobs                 cj       batch/v1                          true   CronJob
jobs                     -        batch/v1                          true   Job
certificatesigningrequests csr   certificates.k8s.io/v1            false  CertificateSigningRequest
leases                   -        coordination.k8s.io/v1            true   Lease
endpointslices           -        discovery.k8s.io/v1               true   EndpointSlice
events                   ev       events.k8s.io/v1                  true   Event
flowschemas              -        flowcontrol.apiserver.k8s.io/v1   false  FlowSchema
prioritylevelconfigurations - flowcontrol.apiserver.k8s.io/v1       false  PriorityLevelConfiguration
ingressclasses           -        networking.k8s.io/v1              false  IngressClass
ingresses                ing      networking.k8s.io/v1              true   Ingress
networkpolicies          netpol   networking.k8s.io/v1              true   NetworkPolicy
runtimeclasses           -        node.k8s.io/v1                    false  RuntimeClass
poddisruptionbudgets     pdb      policy/v1                         true   PodDisruptionBudget
clusterrolebindings      -        rbac.authorization.k8s.io/v1      false  ClusterRoleBinding
clusterroles             -        rbac.authorization.k8s.io/v1      false  ClusterRole
rolebindings             -        rbac.authorization.k8s.io/v1      true   RoleBinding
roles                    -        rbac.authorization.k8s.io/v1      true   Role
priorityclasses          pc       scheduling.k8s.io/v1              false  PriorityClass
csidrivers               -        storage.k8s.io/v1                 false  CSIDriver
csinodes                 -        storage.k8s.io/v1                 false  CSINode
csistoragecapacities     -        storage.k8s.io/v1                 true   CSIStorageCapacity
storageclasses           sc       storage.k8s.io/v1                 false  StorageClass
volumeattachments        -        storage.k8s.io/v1                 false  VolumeAttachment
`
  .trim()
  .split('\n')
  .map((line) => {
    const [plural, shortName, apiVersion, namespaced, kind] = line.trim().split(/\s+/);
    return { plural, shortNames: shortName === '-' ? [] : shortName.split(','), apiVersion, namespaced: namespaced === 'true', kind };
  });

/** Resources in the "all" category (`kubectl get all`). */
const ALL_CATEGORY = ['pods', 'replicationcontrollers', 'services', 'daemonsets', 'deployments', 'replicasets', 'statefulsets', 'horizontalpodautoscalers', 'cronjobs', 'jobs'];
/** Served besides the preferred versions kubectl api-resources lists. */
// metrics.k8s.io is metrics-server's group upstream (an aggregated API), served here in process.
const OTHER_VERSIONS = ['autoscaling/v1 horizontalpodautoscalers', 'metrics.k8s.io/v1beta1 nodes', 'metrics.k8s.io/v1beta1 pods'];
/** Resources with a /status subresource. */
const WITH_STATUS = [
  'namespaces', 'nodes', 'persistentvolumeclaims', 'persistentvolumes', 'pods', 'replicationcontrollers', 'resourcequotas', 'services',
  'daemonsets', 'deployments', 'replicasets', 'statefulsets', 'cronjobs', 'jobs', 'ingresses', 'poddisruptionbudgets',
  'customresourcedefinitions', 'apiservices', 'validatingadmissionpolicies', 'horizontalpodautoscalers', 'volumeattachments',
  'flowschemas', 'prioritylevelconfigurations', 'certificatesigningrequests',
];
const WITH_SCALE = ['replicationcontrollers', 'deployments', 'replicasets', 'statefulsets'];
/** Resources whose strategies set metadata.generation. */
const WITH_GENERATION = [
  'replicationcontrollers', 'daemonsets', 'deployments', 'replicasets', 'statefulsets', 'cronjobs', 'jobs', 'endpointslices',
  'ingressclasses', 'ingresses', 'networkpolicies', 'poddisruptionbudgets', 'priorityclasses',
  'customresourcedefinitions', 'validatingadmissionpolicies', 'validatingadmissionpolicybindings', 'horizontalpodautoscalers',
  'flowschemas', 'prioritylevelconfigurations',
];

const byResource = new Map(allKinds.map((k) => [`${apiVersionOf(k)} ${k.plural}`, k]));

describe('catalog of kinds', () => {
  it('serves exactly the resources of upstream discovery, with their names and scope', () => {
    assert.equal(allKinds.length, DISCOVERY.length + OTHER_VERSIONS.length);
    for (const other of OTHER_VERSIONS) assert.ok(byResource.get(other), other);
    for (const expected of DISCOVERY) {
      const strategy = byResource.get(`${expected.apiVersion} ${expected.plural}`);
      assert.ok(strategy, `missing ${expected.apiVersion} ${expected.plural}`);
      assert.equal(strategy.kind, expected.kind);
      assert.equal(strategy.namespaced, expected.namespaced, expected.plural);
      assert.deepEqual(strategy.shortNames ?? [], expected.shortNames, expected.plural);
      assert.equal(strategy.singular, expected.kind === 'Endpoints' ? 'endpoints' : expected.kind.toLowerCase());
    }
  });

  it('puts the workloads and services in the "all" category', () => {
    const inAll = [...new Set(allKinds.filter((k) => k.categories?.includes('all')).map((k) => k.plural))].sort();
    assert.deepEqual(inAll, [...ALL_CATEGORY].sort());
  });

  it('declares /status and /scale subresources where upstream has them', () => {
    assert.deepEqual([...new Set(allKinds.filter((k) => k.statusSubresource).map((k) => k.plural))].sort(), [...WITH_STATUS].sort());
    for (const k of allKinds) {
      if (WITH_SCALE.includes(k.plural)) assert.deepEqual(k.scale, { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'status.selector' });
      else assert.equal(k.scale, undefined, k.plural);
    }
  });

  it('tracks metadata.generation where upstream does', () => {
    assert.deepEqual([...new Set(allKinds.filter((k) => k.generation).map((k) => k.plural))].sort(), [...WITH_GENERATION].sort());
  });

  it('gives every kind distinct, non-empty table columns', () => {
    for (const k of allKinds) {
      if (k.kind === 'Binding') continue; // create-only: nothing to print
      if (k.group === 'metrics.k8s.io') continue; // metrics-server prints no columns of its own either
      assert.ok(k.columns.length > 0, k.plural);
      const names = k.columns.map((c) => c.name);
      assert.equal(new Set(names).size, names.length, `${k.plural}: ${names.join(',')}`);
    }
  });

  it('validates RBAC names as path segments, Namespace names as labels and Service names as DNS-1035 labels', () => {
    const rbac = allKinds.filter((k) => k.group === 'rbac.authorization.k8s.io');
    assert.equal(rbac.length, 4);
    for (const k of rbac) {
      assert.deepEqual(k.nameValidation?.('system:controller:foo'), []);
      assert.notDeepEqual(k.nameValidation?.('a/b'), []);
    }
    assert.equal(byResource.get('v1 namespaces')?.nameIsDnsLabel, true);
    const services = byResource.get('v1 services');
    assert.deepEqual(services?.nameValidation?.('web-1'), []);
    assert.notDeepEqual(services?.nameValidation?.('1web'), []);
  });
});
