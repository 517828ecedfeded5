// Facts about the upstream Kubernetes OpenAPI document that the @kubernetes/client-node models
// do not carry. Each table is keyed by upstream definition name, then by property name, and was
// checked against the `patchStrategy`/`listType` markers in upstream's types.go.

const mapBy = (...keys) => ({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys });
const mergeBy = (key, ...mapKeys) => ({
  'x-kubernetes-patch-strategy': 'merge',
  'x-kubernetes-patch-merge-key': key,
  ...mapBy(...(mapKeys.length > 0 ? mapKeys : [key])),
});
const atomic = { 'x-kubernetes-list-type': 'atomic' };
const conditionsByType = { conditions: mergeBy('type') };

/** Strategic-merge-patch and server-side-apply list semantics, per definition and property. */
export const LIST_EXTENSIONS = {
  'io.k8s.api.core.v1.PodSpec': {
    containers: mergeBy('name'),
    initContainers: mergeBy('name'),
    ephemeralContainers: mergeBy('name'),
    volumes: { ...mergeBy('name'), 'x-kubernetes-patch-strategy': 'merge,retainKeys' },
    imagePullSecrets: mergeBy('name'),
    hostAliases: mergeBy('ip'),
    tolerations: atomic,
    topologySpreadConstraints: mergeBy('topologyKey', 'topologyKey', 'whenUnsatisfiable'),
    readinessGates: atomic,
    schedulingGates: mergeBy('name'),
    resourceClaims: { ...mergeBy('name'), 'x-kubernetes-patch-strategy': 'merge,retainKeys' },
  },
  'io.k8s.api.core.v1.Container': {
    ports: mergeBy('containerPort', 'containerPort', 'protocol'),
    env: mergeBy('name'),
    envFrom: atomic,
    volumeMounts: mergeBy('mountPath'),
    volumeDevices: mergeBy('devicePath'),
    resizePolicy: atomic,
    args: atomic,
    command: atomic,
  },
  'io.k8s.api.core.v1.EphemeralContainer': {
    ports: mergeBy('containerPort', 'containerPort', 'protocol'),
    env: mergeBy('name'),
    envFrom: atomic,
    volumeMounts: mergeBy('mountPath'),
    volumeDevices: mergeBy('devicePath'),
    resizePolicy: atomic,
    args: atomic,
    command: atomic,
  },
  'io.k8s.api.core.v1.PodStatus': {
    ...conditionsByType,
    podIPs: mergeBy('ip'),
    hostIPs: mergeBy('ip'),
    resourceClaimStatuses: { ...mergeBy('name'), 'x-kubernetes-patch-strategy': 'merge,retainKeys' },
    containerStatuses: atomic,
    initContainerStatuses: atomic,
    ephemeralContainerStatuses: atomic,
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    finalizers: { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' },
    ownerReferences: mergeBy('uid'),
    managedFields: atomic,
  },
  'io.k8s.api.core.v1.ServiceSpec': {
    ports: mergeBy('port', 'port', 'protocol'),
    clusterIPs: atomic,
    externalIPs: atomic,
    ipFamilies: atomic,
    loadBalancerSourceRanges: atomic,
  },
  'io.k8s.api.core.v1.ServiceStatus': conditionsByType,
  'io.k8s.api.core.v1.ComponentStatus': {
    conditions: { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'type' },
  },
  'io.k8s.api.core.v1.NodeSpec': {
    podCIDRs: { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' },
    taints: atomic,
  },
  'io.k8s.api.core.v1.NodeStatus': { ...conditionsByType, addresses: mergeBy('type') },
  'io.k8s.api.core.v1.NamespaceStatus': conditionsByType,
  'io.k8s.api.core.v1.PersistentVolumeClaimStatus': conditionsByType,
  'io.k8s.api.core.v1.ReplicationControllerStatus': conditionsByType,
  'io.k8s.api.core.v1.Endpoints': { subsets: atomic },
  'io.k8s.api.core.v1.ServiceAccount': {
    secrets: { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
  },
  'io.k8s.api.rbac.v1.Role': { rules: atomic },
  'io.k8s.api.rbac.v1.ClusterRole': { rules: atomic },
  'io.k8s.api.rbac.v1.RoleBinding': { subjects: atomic },
  'io.k8s.api.rbac.v1.ClusterRoleBinding': { subjects: atomic },
  'io.k8s.api.apps.v1.DeploymentStatus': conditionsByType,
  'io.k8s.api.apps.v1.ReplicaSetStatus': conditionsByType,
  'io.k8s.api.apps.v1.StatefulSetStatus': conditionsByType,
  'io.k8s.api.apps.v1.DaemonSetStatus': conditionsByType,
  'io.k8s.api.apps.v1.StatefulSetSpec': { volumeClaimTemplates: atomic },
  // Switching to Recreate must drop a rollingUpdate the server defaulted (upstream's patchStrategy:"retainKeys").
  'io.k8s.api.apps.v1.DeploymentSpec': { strategy: { 'x-kubernetes-patch-strategy': 'retainKeys' } },
  'io.k8s.api.batch.v1.JobStatus': {
    conditions: { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'type', ...atomic },
  },
  'io.k8s.api.batch.v1.CronJobStatus': { active: atomic },
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': conditionsByType,
  'io.k8s.api.networking.v1.ServiceCIDRStatus': conditionsByType,
  'io.k8s.api.storage.v1.CSINodeSpec': {
    drivers: { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
  },
  'io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration': { webhooks: mergeBy('name') },
  'io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration': { webhooks: mergeBy('name') },
  'io.k8s.api.resource.v1.ResourceClaimStatus': { reservedFor: mergeBy('uid') },
  'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus': conditionsByType,
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus': conditionsByType,
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': { matchExpressions: atomic },
  'io.k8s.api.core.v1.NodeSelectorTerm': { matchExpressions: atomic, matchFields: atomic },
  'io.k8s.api.core.v1.NodeSelector': { nodeSelectorTerms: atomic },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus': {
    conditions: mapBy('type'),
  },
};

/**
 * Properties whose upstream type is resource.Quantity (or a map of them); the client models
 * flatten these to plain strings.
 */
export const QUANTITY_PROPERTIES = {
  'io.k8s.api.core.v1.ResourceRequirements': { limits: 'map', requests: 'map' },
  'io.k8s.api.core.v1.VolumeResourceRequirements': { limits: 'map', requests: 'map' },
  'io.k8s.api.core.v1.NodeStatus': { capacity: 'map', allocatable: 'map' },
  'io.k8s.api.core.v1.PersistentVolumeSpec': { capacity: 'map' },
  'io.k8s.api.core.v1.PersistentVolumeClaimStatus': { capacity: 'map', allocatedResources: 'map' },
  'io.k8s.api.core.v1.ResourceQuotaSpec': { hard: 'map' },
  'io.k8s.api.core.v1.ResourceQuotaStatus': { hard: 'map', used: 'map' },
  'io.k8s.api.core.v1.LimitRangeItem': {
    max: 'map', min: 'map', default: 'map', defaultRequest: 'map', maxLimitRequestRatio: 'map',
  },
  'io.k8s.api.core.v1.PodSpec': { overhead: 'map' },
  'io.k8s.api.core.v1.ContainerStatus': { allocatedResources: 'map' },
  'io.k8s.api.core.v1.EmptyDirVolumeSource': { sizeLimit: 'single' },
  'io.k8s.api.core.v1.ResourceFieldSelector': { divisor: 'single' },
  'io.k8s.api.node.v1.Overhead': { podFixed: 'map' },
  'io.k8s.api.storage.v1.CSIStorageCapacity': { capacity: 'single', maximumVolumeSize: 'single' },
  'io.k8s.api.autoscaling.v2.MetricTarget': { value: 'single', averageValue: 'single' },
  'io.k8s.api.autoscaling.v2.MetricValueStatus': { value: 'single', averageValue: 'single' },
  'io.k8s.api.resource.v1.CapacityRequirements': { requests: 'map' },
};

/** client-node types "any" properties; upstream names the concrete wrapper type. */
export const OPAQUE_PROPERTY_TYPES = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry': {
    fieldsV1: 'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps': {
    additionalItems: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool',
    additionalProperties: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool',
    default: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
    example: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
    enum: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
    items: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray',
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresources': {
    status: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresourceStatus',
  },
};

/** Opaque (schema-less) definitions upstream has, keyed by name. */
export const OPAQUE_DEFINITIONS = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': {
    description: 'An amount of a resource, written as a decimal number with an optional SI or binary suffix, e.g. "100m", "1.5", "2Gi".',
    type: 'string',
  },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': {
    description: 'Either a 32-bit integer or a string (such as a named port or a percentage), kept as whichever was given.',
    type: 'string',
    format: 'int-or-string',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': {
    description: 'A point in time, serialized as an RFC 3339 timestamp in UTC with second precision.',
    type: 'string',
    format: 'date-time',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': {
    description: 'A point in time, serialized as an RFC 3339 timestamp in UTC with microsecond precision.',
    type: 'string',
    format: 'date-time',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': {
    description: 'The set of fields a manager owns, encoded as a JSON trie.',
    type: 'object',
  },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': {
    description: 'An embedded object whose schema is determined by its own apiVersion and kind.',
    type: 'object',
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': {
    description: 'The body of a PATCH request; its format depends on the request Content-Type.',
    type: 'object',
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON': {
    description: 'Any JSON value.',
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool': {
    description: 'Either a JSON schema or a boolean.',
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray': {
    description: 'Either a JSON schema or an array of JSON schemas.',
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresourceStatus': {
    description: 'Enables the status subresource of a custom resource; it has no fields.',
    type: 'object',
  },
};

/**
 * Kinds whose API group is not the one whose endpoints carry them (subresource bodies).
 * Keyed by client-node class name.
 */
export const GROUP_OVERRIDES = {
  V1Scale: 'autoscaling',
  V1Eviction: 'policy',
  // Only StorageClass (storage.k8s.io) uses it, but it is declared in core.
  V1TopologySelectorTerm: 'core',
};

/** Meta types: everything reachable from these lives in io.k8s.apimachinery.pkg.apis.meta.v1. */
export const META_ROOTS = [
  'V1ObjectMeta', 'V1ListMeta', 'V1Status', 'V1DeleteOptions', 'V1LabelSelector', 'V1Condition',
  'V1WatchEvent', 'V1APIResourceList', 'V1APIGroupList', 'V1APIGroup', 'V1APIVersions',
];

/** Meta kinds upstream tags with a group-version-kind in every group version it serves. */
export const KINDS_IN_EVERY_GROUP_VERSION = ['DeleteOptions', 'WatchEvent'];

/** Meta kinds upstream tags with the core group-version only. */
export const CORE_ONLY_META_KINDS = ['Status', 'APIGroup', 'APIGroupList', 'APIResourceList', 'APIVersions'];
