/** Every kind the API server serves, in discovery order within each group. */
import type { KindStrategy } from './strategy.js';
import { pods } from './pods.js';
import { namespaces } from './namespaces.js';
import { nodes } from './nodes.js';
import { services } from './services.js';
import { endpoints, endpointSlices } from './endpoints.js';
import { configMaps } from './configmaps.js';
import { secrets } from './secrets.js';
import { serviceAccounts } from './serviceaccounts.js';
import { events, eventsV1 } from './events.js';
import { persistentVolumeClaims, persistentVolumes } from './persistent-volumes.js';
import { limitRanges, resourceQuotas } from './limits-and-quotas.js';
import { podTemplates } from './pod-templates.js';
import { replicationControllers } from './replication-controllers.js';
import { deployments } from './deployments.js';
import { replicaSets } from './replicasets.js';
import { statefulSets } from './statefulsets.js';
import { daemonSets } from './daemonsets.js';
import { controllerRevisions } from './controller-revisions.js';
import { jobs } from './jobs.js';
import { cronJobs } from './cronjobs.js';
import { leases } from './leases.js';
import { podDisruptionBudgets } from './pod-disruption-budgets.js';
import { priorityClasses } from './priority-classes.js';
import { storageClasses } from './storage-classes.js';
import { ingressClasses, ingresses } from './ingresses.js';
import { networkPolicies } from './network-policies.js';
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from './rbac.js';
import { customResourceDefinitions } from './custom-resource-definitions.js';
import { mutatingWebhookConfigurations, validatingAdmissionPolicies, validatingAdmissionPolicyBindings, validatingWebhookConfigurations } from './admission-registration.js';
import { apiServices } from './api-services.js';
import { bindings, componentStatuses } from './served-only.js';
import { nodeMetrics, podMetrics } from './resource-metrics.js';
import { horizontalPodAutoscalersV1, horizontalPodAutoscalersV2 } from './horizontal-pod-autoscalers.js';
import { runtimeClasses } from './runtime-classes.js';
import { csiDrivers, csiNodes, csiStorageCapacities, volumeAttachments } from './csi.js';
import { flowSchemas, priorityLevelConfigurations } from './flowcontrol.js';
import { certificateSigningRequests } from './certificate-signing-requests.js';

export const allKinds: KindStrategy[] = [
  // core/v1
  bindings,
  componentStatuses,
  configMaps,
  endpoints,
  events,
  limitRanges,
  namespaces,
  nodes,
  persistentVolumeClaims,
  persistentVolumes,
  pods,
  podTemplates,
  replicationControllers,
  resourceQuotas,
  secrets,
  serviceAccounts,
  services,
  // admissionregistration.k8s.io/v1
  mutatingWebhookConfigurations,
  validatingAdmissionPolicies,
  validatingAdmissionPolicyBindings,
  validatingWebhookConfigurations,
  // apiregistration.k8s.io/v1
  apiServices,
  // apps/v1
  controllerRevisions,
  daemonSets,
  deployments,
  replicaSets,
  statefulSets,
  // autoscaling/v2 (preferred) and v1, one storage
  horizontalPodAutoscalersV2,
  horizontalPodAutoscalersV1,
  // batch/v1
  cronJobs,
  jobs,
  // certificates.k8s.io/v1
  certificateSigningRequests,
  // coordination.k8s.io/v1
  leases,
  // discovery.k8s.io/v1
  endpointSlices,
  // events.k8s.io/v1
  eventsV1,
  // flowcontrol.apiserver.k8s.io/v1
  flowSchemas,
  priorityLevelConfigurations,
  // networking.k8s.io/v1
  ingressClasses,
  ingresses,
  networkPolicies,
  // node.k8s.io/v1
  runtimeClasses,
  // policy/v1
  podDisruptionBudgets,
  // apiextensions.k8s.io/v1
  customResourceDefinitions,
  // rbac.authorization.k8s.io/v1
  clusterRoleBindings,
  clusterRoles,
  roleBindings,
  roles,
  // scheduling.k8s.io/v1
  priorityClasses,
  // storage.k8s.io/v1
  csiDrivers,
  csiNodes,
  csiStorageCapacities,
  storageClasses,
  volumeAttachments,
  // metrics.k8s.io/v1beta1 (served, computed from the virtual nodes)
  nodeMetrics,
  podMetrics,
];
