/**
 * The resource types in-process components read and write, named as the API names them. One
 * constant per type, so a controller says `PODS`, never a string it could misspell.
 */
export interface ResourceType {
  /** API group; "" for core. */
  readonly group: string;
  readonly version: string;
  /** Lower-case plural, as in URLs. */
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

function type(group: string, version: string, resource: string, kind: string, namespaced = true): ResourceType {
  return Object.freeze({ group, version, resource, kind, namespaced });
}

export const NAMESPACES = type('', 'v1', 'namespaces', 'Namespace', false);
export const NODES = type('', 'v1', 'nodes', 'Node', false);
export const PODS = type('', 'v1', 'pods', 'Pod');
export const SERVICES = type('', 'v1', 'services', 'Service');
export const ENDPOINTS = type('', 'v1', 'endpoints', 'Endpoints');
export const CONFIG_MAPS = type('', 'v1', 'configmaps', 'ConfigMap');
export const SECRETS = type('', 'v1', 'secrets', 'Secret');
export const SERVICE_ACCOUNTS = type('', 'v1', 'serviceaccounts', 'ServiceAccount');
export const EVENTS = type('', 'v1', 'events', 'Event');
export const PERSISTENT_VOLUMES = type('', 'v1', 'persistentvolumes', 'PersistentVolume', false);
export const PERSISTENT_VOLUME_CLAIMS = type('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim');
export const LIMIT_RANGES = type('', 'v1', 'limitranges', 'LimitRange');
export const RESOURCE_QUOTAS = type('', 'v1', 'resourcequotas', 'ResourceQuota');
export const REPLICATION_CONTROLLERS = type('', 'v1', 'replicationcontrollers', 'ReplicationController');
export const POD_TEMPLATES = type('', 'v1', 'podtemplates', 'PodTemplate');
export const DEPLOYMENTS = type('apps', 'v1', 'deployments', 'Deployment');
export const REPLICA_SETS = type('apps', 'v1', 'replicasets', 'ReplicaSet');
export const STATEFUL_SETS = type('apps', 'v1', 'statefulsets', 'StatefulSet');
export const DAEMON_SETS = type('apps', 'v1', 'daemonsets', 'DaemonSet');
export const CONTROLLER_REVISIONS = type('apps', 'v1', 'controllerrevisions', 'ControllerRevision');
export const JOBS = type('batch', 'v1', 'jobs', 'Job');
export const CRON_JOBS = type('batch', 'v1', 'cronjobs', 'CronJob');
export const LEASES = type('coordination.k8s.io', 'v1', 'leases', 'Lease');
export const ENDPOINT_SLICES = type('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice');
export const POD_DISRUPTION_BUDGETS = type('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget');
export const PRIORITY_CLASSES = type('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false);
export const STORAGE_CLASSES = type('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false);
export const CLUSTER_ROLES = type('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false);
export const CLUSTER_ROLE_BINDINGS = type('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false);
export const ROLES = type('rbac.authorization.k8s.io', 'v1', 'roles', 'Role');
export const ROLE_BINDINGS = type('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding');
export const FLOW_SCHEMAS = type('flowcontrol.apiserver.k8s.io', 'v1', 'flowschemas', 'FlowSchema', false);
export const PRIORITY_LEVEL_CONFIGURATIONS = type('flowcontrol.apiserver.k8s.io', 'v1', 'prioritylevelconfigurations', 'PriorityLevelConfiguration', false);
export const CERTIFICATE_SIGNING_REQUESTS = type('certificates.k8s.io', 'v1', 'certificatesigningrequests', 'CertificateSigningRequest', false);

/** "apps/v1" or "v1": the apiVersion objects of this type carry. */
export function apiVersionOfType(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** "deployments.apps", "pods": how logs, metrics and errors name a resource. */
export function qualifiedResource(type: Pick<ResourceType, 'group' | 'resource'>): string {
  return type.group ? `${type.resource}.${type.group}` : type.resource;
}

/** The cache key of an object: "namespace/name", or "name" when cluster-scoped (client-go's MetaNamespaceKey). */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export const CUSTOM_RESOURCE_DEFINITIONS = type('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false);
export const HORIZONTAL_POD_AUTOSCALERS = type('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler');
export const API_SERVICES = type('apiregistration.k8s.io', 'v1', 'apiservices', 'APIService', false);
