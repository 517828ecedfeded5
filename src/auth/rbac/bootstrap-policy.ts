/**
 * Upstream's bootstrap RBAC policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy, v1.32), as
 * data: the cluster roles and bindings every cluster starts with, the per-controller
 * `system:controller:*` roles bound to kube-system service accounts, and the namespaced roles in
 * kube-system and kube-public. Reconciled into the store at every start (reconcile.ts).
 *
 * Shorthand: R(verbs, groups, resources, names?) is a resource rule, U(verbs, urls) a
 * non-resource rule; verbs and lists are space-separated ("" is the core group, written '-').
 */
import type { PolicyRule } from './rules.js';

const words = (text: string) => text.split(/\s+/).filter(Boolean).map((w) => (w === '-' ? '' : w));
const R = (verbs: string, groups: string, resources: string, names?: string): PolicyRule => ({ verbs: words(verbs), apiGroups: words(groups), resources: words(resources), ...(names ? { resourceNames: words(names) } : {}) });
const U = (verbs: string, urls: string): PolicyRule => ({ verbs: words(verbs), nonResourceURLs: words(urls) });

const READ = 'get list watch';
const WRITE = 'create update patch delete deletecollection';
const READ_WRITE = `${READ} ${WRITE}`;
const EVENTS = R('create update patch', '- events.k8s.io', 'events');

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

export interface BootstrapRole {
  name: string;
  rules?: PolicyRule[];
  labels?: Record<string, string>;
  /** Label selectors (matchLabels) whose roles this one aggregates. */
  aggregate?: Array<Record<string, string>>;
}

export interface BootstrapSubject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
}

export interface BootstrapBinding {
  name: string;
  roleKind: 'ClusterRole' | 'Role';
  role: string;
  subjects: BootstrapSubject[];
}

const user = (name: string): BootstrapSubject => ({ kind: 'User', name });
const group = (name: string): BootstrapSubject => ({ kind: 'Group', name });
const sa = (namespace: string, name: string): BootstrapSubject => ({ kind: 'ServiceAccount', namespace, name });
const toAdmin = { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' };
const toEdit = { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' };
const toView = { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' };

/** What the Node authorizer allows every node (its graph narrows secrets, configmaps, PVs, PVCs, tokens, leases). */
export const NODE_RULES: PolicyRule[] = [
  R('create', 'authentication.k8s.io', 'tokenreviews'),
  R('create', 'authorization.k8s.io', 'subjectaccessreviews localsubjectaccessreviews'),
  R(READ, '-', 'services'),
  R('create get list watch', '-', 'nodes'),
  R('update patch', '-', 'nodes/status'),
  R('update patch', '-', 'nodes'),
  R('create update patch', '-', 'events'),
  R(READ, '-', 'pods'),
  R('create delete', '-', 'pods'),
  R('update patch', '-', 'pods/status'),
  R('create', '-', 'pods/eviction'),
  R(READ, '-', 'secrets configmaps'),
  R('get', '-', 'persistentvolumeclaims persistentvolumes'),
  R('get', '-', 'endpoints'),
  R('create get list watch', 'certificates.k8s.io', 'certificatesigningrequests'),
  R('get create update patch delete', 'coordination.k8s.io', 'leases'),
  R('get', 'storage.k8s.io', 'volumeattachments'),
  R('get update patch', '-', 'persistentvolumeclaims/status'),
  R('create', '-', 'serviceaccounts/token'),
  R(READ, 'storage.k8s.io', 'csidrivers'),
  R('get create update patch delete', 'storage.k8s.io', 'csinodes'),
  R(READ, 'node.k8s.io', 'runtimeclasses'),
];

export const CLUSTER_ROLES: BootstrapRole[] = [
  { name: 'cluster-admin', rules: [R('*', '*', '*'), U('*', '*')] },
  { name: 'system:discovery', rules: [U('get', '/livez /readyz /healthz /version /version/ /openapi /openapi/* /api /api/* /apis /apis/*')] },
  { name: 'system:monitoring', rules: [U('get', '/metrics /metrics/slis /livez /readyz /healthz /livez/* /readyz/* /healthz/*')] },
  { name: 'system:basic-user', rules: [R('create', 'authorization.k8s.io', 'selfsubjectaccessreviews selfsubjectrulesreviews'), R('create', 'authentication.k8s.io', 'selfsubjectreviews')] },
  { name: 'system:public-info-viewer', rules: [U('get', '/livez /readyz /healthz /version /version/')] },
  { name: 'admin', aggregate: [toAdmin] },
  { name: 'edit', labels: toAdmin, aggregate: [toEdit] },
  { name: 'view', labels: toEdit, aggregate: [toView] },
  {
    name: 'system:aggregate-to-admin',
    labels: toAdmin,
    rules: [R('create', 'authorization.k8s.io', 'localsubjectaccessreviews'), R(READ_WRITE, 'rbac.authorization.k8s.io', 'roles rolebindings')],
  },
  {
    name: 'system:aggregate-to-edit',
    labels: toEdit,
    rules: [
      R(READ, '-', 'pods/attach pods/proxy pods/exec pods/portforward secrets services/proxy'),
      R('impersonate', '-', 'serviceaccounts'),
      R(WRITE, '-', 'pods pods/attach pods/proxy pods/exec pods/portforward'),
      R('create', '-', 'pods/eviction'),
      R(WRITE, '-', 'replicationcontrollers replicationcontrollers/scale serviceaccounts services services/proxy persistentvolumeclaims configmaps secrets events'),
      R('create', '-', 'serviceaccounts/token'),
      R(WRITE, 'apps', 'statefulsets statefulsets/scale daemonsets deployments deployments/scale deployments/rollback replicasets replicasets/scale'),
      R(WRITE, 'autoscaling', 'horizontalpodautoscalers'),
      R(WRITE, 'batch', 'jobs cronjobs'),
      R(WRITE, 'extensions', 'daemonsets deployments deployments/scale deployments/rollback ingresses replicasets replicasets/scale replicationcontrollers/scale networkpolicies'),
      R(WRITE, 'policy', 'poddisruptionbudgets'),
      R(WRITE, 'networking.k8s.io', 'networkpolicies ingresses'),
      R(WRITE, 'coordination.k8s.io', 'leases'),
    ],
  },
  {
    name: 'system:aggregate-to-view',
    labels: toView,
    rules: [
      R(READ, '-', 'pods replicationcontrollers replicationcontrollers/scale serviceaccounts services services/status endpoints persistentvolumeclaims persistentvolumeclaims/status configmaps'),
      R(READ, '-', 'limitranges resourcequotas bindings events pods/status resourcequotas/status namespaces/status replicationcontrollers/status pods/log'),
      R(READ, '-', 'namespaces'),
      R(READ, 'discovery.k8s.io', 'endpointslices'),
      R(READ, 'apps', 'controllerrevisions statefulsets statefulsets/status statefulsets/scale daemonsets daemonsets/status deployments deployments/status deployments/scale replicasets replicasets/status replicasets/scale'),
      R(READ, 'autoscaling', 'horizontalpodautoscalers horizontalpodautoscalers/status'),
      R(READ, 'batch', 'jobs cronjobs cronjobs/status jobs/status'),
      R(READ, 'extensions', 'daemonsets daemonsets/status deployments deployments/scale deployments/status ingresses ingresses/status replicasets replicasets/scale replicasets/status replicationcontrollers/scale networkpolicies'),
      R(READ, 'policy', 'poddisruptionbudgets poddisruptionbudgets/status'),
      R(READ, 'networking.k8s.io', 'networkpolicies ingresses ingresses/status'),
      R(READ, 'coordination.k8s.io', 'leases'),
    ],
  },
  { name: 'system:heapster', rules: [R(READ, '-', 'events namespaces nodes pods'), R(READ, 'extensions apps', 'deployments')] },
  { name: 'system:node', rules: NODE_RULES },
  { name: 'system:node-problem-detector', rules: [R('get', '-', 'nodes'), R('patch', '-', 'nodes/status'), EVENTS] },
  { name: 'system:kubelet-api-admin', rules: [R(READ, '-', 'nodes'), R('proxy', '-', 'nodes'), R('*', '-', 'nodes/proxy nodes/metrics nodes/stats nodes/log')] },
  { name: 'system:node-bootstrapper', rules: [R('create get list watch', 'certificates.k8s.io', 'certificatesigningrequests')] },
  { name: 'system:auth-delegator', rules: [R('create', 'authentication.k8s.io', 'tokenreviews'), R('create', 'authorization.k8s.io', 'subjectaccessreviews')] },
  { name: 'system:kube-aggregator', rules: [R(READ, '-', 'services endpoints')] },
  {
    name: 'system:kube-controller-manager',
    rules: [
      EVENTS,
      R('create', 'coordination.k8s.io', 'leases'),
      R('get update', 'coordination.k8s.io', 'leases', 'kube-controller-manager'),
      R('create', '-', 'secrets serviceaccounts'),
      R('delete', '-', 'secrets'),
      R('get', '-', 'namespaces secrets serviceaccounts configmaps'),
      R('update', '-', 'secrets serviceaccounts'),
      R('create', 'authentication.k8s.io', 'tokenreviews'),
      R('create', 'authorization.k8s.io', 'subjectaccessreviews'),
      R('list watch', '*', '*'),
      R('create', '-', 'serviceaccounts/token'),
    ],
  },
  { name: 'system:kube-dns', rules: [R('list watch', '-', 'endpoints services')] },
  {
    name: 'system:persistent-volume-provisioner',
    rules: [R('get list watch create delete', '-', 'persistentvolumes'), R('get list watch update', '-', 'persistentvolumeclaims'), R(READ, 'storage.k8s.io', 'storageclasses'), R('watch', '-', 'events'), EVENTS],
  },
  { name: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', rules: [R('create', 'certificates.k8s.io', 'certificatesigningrequests/nodeclient')] },
  { name: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', rules: [R('create', 'certificates.k8s.io', 'certificatesigningrequests/selfnodeclient')] },
  { name: 'system:volume-scheduler', rules: [R('get list watch patch update', '-', 'persistentvolumes'), R(READ, 'storage.k8s.io', 'storageclasses'), R('get list watch patch update', '-', 'persistentvolumeclaims')] },
  { name: 'system:certificates.k8s.io:legacy-unknown-approver', rules: [R('approve', 'certificates.k8s.io', 'signers', 'kubernetes.io/legacy-unknown')] },
  { name: 'system:certificates.k8s.io:kubelet-serving-approver', rules: [R('approve', 'certificates.k8s.io', 'signers', 'kubernetes.io/kubelet-serving')] },
  { name: 'system:certificates.k8s.io:kube-apiserver-client-approver', rules: [R('approve', 'certificates.k8s.io', 'signers', 'kubernetes.io/kube-apiserver-client')] },
  { name: 'system:certificates.k8s.io:kube-apiserver-client-kubelet-approver', rules: [R('approve', 'certificates.k8s.io', 'signers', 'kubernetes.io/kube-apiserver-client-kubelet')] },
  { name: 'system:service-account-issuer-discovery', rules: [U('get', '/.well-known/openid-configuration /.well-known/openid-configuration/ /openid/v1/jwks /openid/v1/jwks/')] },
  { name: 'system:node-proxier', rules: [R('list watch', '-', 'services endpoints'), R(READ, '-', 'nodes'), EVENTS, R('list watch', 'discovery.k8s.io', 'endpointslices')] },
  {
    name: 'system:kube-scheduler',
    rules: [
      EVENTS,
      R('create', 'coordination.k8s.io', 'leases'),
      R('get update', 'coordination.k8s.io', 'leases', 'kube-scheduler'),
      R(READ, '-', 'nodes'),
      R('get list watch delete', '-', 'pods'),
      R('create', '-', 'pods/binding bindings'),
      R('patch update', '-', 'pods/status'),
      R(READ, '-', 'replicationcontrollers services'),
      R(READ, 'apps extensions', 'replicasets'),
      R(READ, 'apps', 'statefulsets'),
      R(READ, 'policy', 'poddisruptionbudgets'),
      R(READ, '-', 'persistentvolumeclaims persistentvolumes'),
      R('create', 'authentication.k8s.io', 'tokenreviews'),
      R('create', 'authorization.k8s.io', 'subjectaccessreviews'),
      R(READ, 'storage.k8s.io', 'csinodes'),
      R(READ, '-', 'namespaces'),
      R(READ, 'storage.k8s.io', 'csidrivers'),
      R(READ, 'storage.k8s.io', 'csistoragecapacities'),
    ],
  },
];

export const CLUSTER_ROLE_BINDINGS: BootstrapBinding[] = [
  { name: 'cluster-admin', roleKind: 'ClusterRole', role: 'cluster-admin', subjects: [group('system:masters')] },
  { name: 'system:monitoring', roleKind: 'ClusterRole', role: 'system:monitoring', subjects: [group('system:monitoring')] },
  { name: 'system:discovery', roleKind: 'ClusterRole', role: 'system:discovery', subjects: [group('system:authenticated')] },
  { name: 'system:basic-user', roleKind: 'ClusterRole', role: 'system:basic-user', subjects: [group('system:authenticated')] },
  { name: 'system:public-info-viewer', roleKind: 'ClusterRole', role: 'system:public-info-viewer', subjects: [group('system:authenticated'), group('system:unauthenticated')] },
  { name: 'system:node-proxier', roleKind: 'ClusterRole', role: 'system:node-proxier', subjects: [user('system:kube-proxy')] },
  { name: 'system:kube-controller-manager', roleKind: 'ClusterRole', role: 'system:kube-controller-manager', subjects: [user('system:kube-controller-manager')] },
  { name: 'system:kube-dns', roleKind: 'ClusterRole', role: 'system:kube-dns', subjects: [sa('kube-system', 'kube-dns')] },
  { name: 'system:kube-scheduler', roleKind: 'ClusterRole', role: 'system:kube-scheduler', subjects: [user('system:kube-scheduler')] },
  { name: 'system:volume-scheduler', roleKind: 'ClusterRole', role: 'system:volume-scheduler', subjects: [user('system:kube-scheduler')] },
  // Nodes are authorized by the Node authorizer; the binding stays, empty, as upstream's.
  { name: 'system:node', roleKind: 'ClusterRole', role: 'system:node', subjects: [] },
  { name: 'system:service-account-issuer-discovery', roleKind: 'ClusterRole', role: 'system:service-account-issuer-discovery', subjects: [group('system:serviceaccounts')] },
];

/** Each controller's role, bound to the service account kube-system/<name>. */
export const CONTROLLER_ROLES: BootstrapRole[] = [
  {
    name: 'attachdetach-controller',
    rules: [
      R('list watch', '-', 'persistentvolumes persistentvolumeclaims'),
      R(READ, '-', 'nodes'),
      R('patch update', '-', 'nodes/status'),
      R('list watch', '-', 'pods'),
      EVENTS,
      R('get create delete list watch', 'storage.k8s.io', 'volumeattachments'),
      R('get watch list', 'storage.k8s.io', 'csidrivers'),
      R('get watch list', 'storage.k8s.io', 'csinodes'),
    ],
  },
  { name: 'clusterrole-aggregation-controller', rules: [R('escalate get list watch update patch', 'rbac.authorization.k8s.io', 'clusterroles')] },
  {
    name: 'cronjob-controller',
    rules: [R('get list watch update', 'batch', 'cronjobs'), R('get list watch create update delete patch', 'batch', 'jobs'), R('update', 'batch', 'cronjobs/status'), R('update', 'batch', 'cronjobs/finalizers'), R('list delete', '-', 'pods'), EVENTS],
  },
  {
    name: 'daemon-set-controller',
    rules: [
      R(READ, 'extensions apps', 'daemonsets'),
      R('update', 'extensions apps', 'daemonsets/status'),
      R('update', 'extensions apps', 'daemonsets/finalizers'),
      R('list watch', '-', 'nodes'),
      R('list watch create delete patch', '-', 'pods'),
      R('create', '-', 'pods/binding'),
      R('get list watch create delete update patch', 'apps', 'controllerrevisions'),
      EVENTS,
    ],
  },
  {
    name: 'deployment-controller',
    rules: [
      R('get list watch update', 'extensions apps', 'deployments'),
      R('update', 'extensions apps', 'deployments/status'),
      R('update', 'extensions apps', 'deployments/finalizers'),
      R('get list watch create update patch delete', 'apps extensions', 'replicasets'),
      R('get list watch update', '-', 'pods'),
      EVENTS,
    ],
  },
  {
    name: 'disruption-controller',
    rules: [
      R(READ, 'extensions apps', 'deployments'),
      R(READ, 'apps extensions', 'replicasets'),
      R(READ, '-', 'replicationcontrollers'),
      R(READ, 'policy', 'poddisruptionbudgets'),
      R(READ, 'apps', 'statefulsets'),
      R('update', 'policy', 'poddisruptionbudgets/status'),
      R('patch update', '-', 'pods/status'),
      R('get', '*', '*/scale'),
      EVENTS,
    ],
  },
  { name: 'endpoint-controller', rules: [R(READ, '-', 'services pods'), R('get list create update delete', '-', 'endpoints'), R('create', '-', 'endpoints/restricted'), EVENTS] },
  { name: 'endpointslice-controller', rules: [R(READ, '-', 'services pods nodes'), R('update', '-', 'services/finalizers'), R('get list create update delete', 'discovery.k8s.io', 'endpointslices'), EVENTS] },
  {
    name: 'endpointslicemirroring-controller',
    rules: [R(READ, '-', 'services endpoints'), R('update', '-', 'services/finalizers'), R('update', '-', 'endpoints/finalizers'), R('get list create update delete', 'discovery.k8s.io', 'endpointslices'), EVENTS],
  },
  {
    name: 'expand-controller',
    rules: [R('get list watch update patch', '-', 'persistentvolumes'), R('update patch', '-', 'persistentvolumeclaims/status'), R(READ, '-', 'persistentvolumeclaims'), R(READ, 'storage.k8s.io', 'storageclasses'), R('get', '-', 'services endpoints'), R('get', '-', 'secrets'), EVENTS],
  },
  { name: 'ephemeral-volume-controller', rules: [R(READ, '-', 'pods'), R('update', '-', 'pods/finalizers'), R('get list watch create', '-', 'persistentvolumeclaims'), EVENTS] },
  { name: 'generic-garbage-collector', rules: [R('get list watch patch update delete', '*', '*'), EVENTS] },
  {
    name: 'horizontal-pod-autoscaler',
    rules: [
      R(READ, 'autoscaling', 'horizontalpodautoscalers'),
      R('update', 'autoscaling', 'horizontalpodautoscalers/status'),
      R('get update', '*', '*/scale'),
      R('list', '-', 'pods'),
      R('list', 'metrics.k8s.io', 'pods'),
      R('get list', 'custom.metrics.k8s.io', '*'),
      R('get list', 'external.metrics.k8s.io', '*'),
      EVENTS,
    ],
  },
  { name: 'job-controller', rules: [R('get list watch update patch', 'batch', 'jobs'), R('update', 'batch', 'jobs/status'), R('update', 'batch', 'jobs/finalizers'), R('list watch create delete patch', '-', 'pods'), EVENTS] },
  { name: 'namespace-controller', rules: [R('get list watch delete', '-', 'namespaces'), R('update', '-', 'namespaces/finalize namespaces/status'), R('get list delete deletecollection', '*', '*')] },
  {
    name: 'node-controller',
    rules: [R('get list update delete patch', '-', 'nodes'), R('patch update', '-', 'nodes/status'), R('patch update', '-', 'pods/status'), R('list get delete', '-', 'pods'), EVENTS],
  },
  {
    name: 'persistent-volume-binder',
    rules: [
      R('get list watch update create delete', '-', 'persistentvolumes'),
      R('update', '-', 'persistentvolumes/status'),
      R('get list watch update', '-', 'persistentvolumeclaims'),
      R('update', '-', 'persistentvolumeclaims/status'),
      R('list watch get create delete', '-', 'pods'),
      R(READ, 'storage.k8s.io', 'storageclasses'),
      R('get create update delete', '-', 'endpoints'),
      R('get create delete', '-', 'services'),
      R('get', '-', 'secrets'),
      R('get list', '-', 'nodes'),
      R('watch', '-', 'events'),
      EVENTS,
    ],
  },
  { name: 'pod-garbage-collector', rules: [R('list watch delete', '-', 'pods'), R('get list', '-', 'nodes'), R('patch', '-', 'pods/status')] },
  {
    name: 'replicaset-controller',
    rules: [R('get list watch update', 'apps extensions', 'replicasets'), R('update', 'apps extensions', 'replicasets/status'), R('update', 'apps extensions', 'replicasets/finalizers'), R('list watch patch create delete', '-', 'pods'), EVENTS],
  },
  {
    name: 'replication-controller',
    rules: [R('get list watch update', '-', 'replicationcontrollers'), R('update', '-', 'replicationcontrollers/status'), R('update', '-', 'replicationcontrollers/finalizers'), R('list watch patch create delete', '-', 'pods'), EVENTS],
  },
  { name: 'resourcequota-controller', rules: [R('list watch', '*', '*'), R('update', '-', 'resourcequotas/status'), EVENTS] },
  { name: 'route-controller', rules: [R('list watch', '-', 'nodes'), R('patch', '-', 'nodes/status'), EVENTS] },
  { name: 'service-account-controller', rules: [R('create', '-', 'serviceaccounts'), EVENTS] },
  { name: 'service-controller', rules: [R(READ, '-', 'services'), R('patch update', '-', 'services/status'), R('list watch', '-', 'nodes'), EVENTS] },
  {
    name: 'statefulset-controller',
    rules: [
      R('list watch', '-', 'pods'),
      R(READ, 'apps', 'statefulsets'),
      R('update', 'apps', 'statefulsets/status'),
      R('update', 'apps', 'statefulsets/finalizers'),
      R('get create delete update patch', '-', 'pods'),
      R('get create delete update patch list watch', 'apps', 'controllerrevisions'),
      R('get create', '-', 'persistentvolumeclaims'),
      EVENTS,
      R('update delete', '-', 'persistentvolumeclaims'),
    ],
  },
  { name: 'taint-eviction-controller', rules: [R('patch update', '-', 'pods/status'), R('list get delete', '-', 'pods'), EVENTS] },
  { name: 'ttl-controller', rules: [R('update patch list watch', '-', 'nodes'), EVENTS] },
  {
    name: 'certificate-controller',
    rules: [
      R('get list watch delete', 'certificates.k8s.io', 'certificatesigningrequests'),
      R('update', 'certificates.k8s.io', 'certificatesigningrequests/status certificatesigningrequests/approval'),
      R('approve', 'certificates.k8s.io', 'signers', 'kubernetes.io/kube-apiserver-client-kubelet'),
      R('sign', 'certificates.k8s.io', 'signers', 'kubernetes.io/legacy-unknown kubernetes.io/kube-apiserver-client kubernetes.io/kube-apiserver-client-kubelet kubernetes.io/kubelet-serving'),
      R('create', 'authorization.k8s.io', 'subjectaccessreviews'),
      EVENTS,
    ],
  },
  { name: 'pvc-protection-controller', rules: [R('get list watch update', '-', 'persistentvolumeclaims'), R('list watch get', '-', 'pods'), EVENTS] },
  { name: 'pv-protection-controller', rules: [R('get list watch update', '-', 'persistentvolumes'), EVENTS] },
  { name: 'ttl-after-finished-controller', rules: [R('get list watch delete', 'batch', 'jobs'), EVENTS] },
  { name: 'root-ca-cert-publisher', rules: [R('create update', '-', 'configmaps'), EVENTS] },
  {
    name: 'validatingadmissionpolicy-status-controller',
    rules: [R(READ, 'admissionregistration.k8s.io', 'validatingadmissionpolicies'), R('get patch update', 'admissionregistration.k8s.io', 'validatingadmissionpolicies/status'), EVENTS],
  },
  { name: 'legacy-service-account-token-cleaner', rules: [R('get', '-', 'configmaps', 'kube-apiserver-legacy-service-account-token-tracking'), R('patch delete', '-', 'secrets')] },
];

export const CONTROLLER_ROLE_PREFIX = 'system:controller:';

/** Roles and bindings in one namespace. */
export interface NamespacedPolicy {
  namespace: string;
  roles: BootstrapRole[];
  bindings: BootstrapBinding[];
}

export const NAMESPACED_POLICY: NamespacedPolicy[] = [
  {
    namespace: 'kube-system',
    roles: [
      { name: 'extension-apiserver-authentication-reader', rules: [R(READ, '-', 'configmaps', 'extension-apiserver-authentication')] },
      { name: 'system::leader-locking-kube-controller-manager', rules: [R('watch', '-', 'configmaps'), R('get update', '-', 'configmaps', 'kube-controller-manager')] },
      { name: 'system::leader-locking-kube-scheduler', rules: [R('watch', '-', 'configmaps'), R('get update', '-', 'configmaps', 'kube-scheduler')] },
      { name: 'system:controller:bootstrap-signer', rules: [R(READ, '-', 'secrets')] },
      { name: 'system:controller:cloud-provider', rules: [R('create get list watch', '-', 'configmaps')] },
      { name: 'system:controller:token-cleaner', rules: [R('delete get list watch', '-', 'secrets'), EVENTS] },
    ],
    bindings: [
      { name: 'system::extension-apiserver-authentication-reader', roleKind: 'Role', role: 'extension-apiserver-authentication-reader', subjects: [user('system:kube-controller-manager'), user('system:kube-scheduler')] },
      { name: 'system::leader-locking-kube-controller-manager', roleKind: 'Role', role: 'system::leader-locking-kube-controller-manager', subjects: [user('system:kube-controller-manager'), sa('kube-system', 'kube-controller-manager')] },
      { name: 'system::leader-locking-kube-scheduler', roleKind: 'Role', role: 'system::leader-locking-kube-scheduler', subjects: [user('system:kube-scheduler'), sa('kube-system', 'kube-scheduler')] },
      { name: 'system:controller:bootstrap-signer', roleKind: 'Role', role: 'system:controller:bootstrap-signer', subjects: [sa('kube-system', 'bootstrap-signer')] },
      { name: 'system:controller:cloud-provider', roleKind: 'Role', role: 'system:controller:cloud-provider', subjects: [sa('kube-system', 'cloud-provider')] },
      { name: 'system:controller:token-cleaner', roleKind: 'Role', role: 'system:controller:token-cleaner', subjects: [sa('kube-system', 'token-cleaner')] },
    ],
  },
  {
    namespace: 'kube-public',
    roles: [{ name: 'system:controller:bootstrap-signer', rules: [R(READ, '-', 'configmaps'), R('update', '-', 'configmaps', 'cluster-info'), EVENTS] }],
    bindings: [{ name: 'system:controller:bootstrap-signer', roleKind: 'Role', role: 'system:controller:bootstrap-signer', subjects: [sa('kube-system', 'bootstrap-signer')] }],
  },
];

/** Every cluster role: the general ones and the controllers'. */
export function allClusterRoles(): BootstrapRole[] {
  return [...CLUSTER_ROLES, ...CONTROLLER_ROLES.map((role) => ({ ...role, name: CONTROLLER_ROLE_PREFIX + role.name }))];
}

/** Every cluster role binding: the general ones and one per controller, to its service account. */
export function allClusterRoleBindings(): BootstrapBinding[] {
  const controllers = CONTROLLER_ROLES.map((role): BootstrapBinding => ({
    name: CONTROLLER_ROLE_PREFIX + role.name,
    roleKind: 'ClusterRole',
    role: CONTROLLER_ROLE_PREFIX + role.name,
    subjects: [sa('kube-system', role.name)],
  }));
  return [...CLUSTER_ROLE_BINDINGS, ...controllers];
}
