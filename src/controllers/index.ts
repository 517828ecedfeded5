/** Every controller the controller manager can run, in start order. */
import type { ControllerDefinition } from './manager.js';
import { namespaceController } from './namespace.js';
import { deploymentController } from './deployment/controller.js';
import { replicaSetController } from './replicaset.js';
import { replicationControllerController } from './replication-controller.js';
import { garbageCollectorController } from './garbage-collector/garbage-collector.js';
import { statefulSetController } from './statefulset/index.js';
import { daemonSetController } from './daemonset/index.js';
import { jobController } from './job/index.js';
import { cronJobController } from './cronjob/index.js';
import { ttlAfterFinishedController } from './ttl-after-finished.js';
import { horizontalPodAutoscalerControllerDefinition } from './horizontal-pod-autoscaler.js';
import { serviceAccountController } from './serviceaccounts.js';
import { rootCaPublisher } from './root-ca-publisher.js';
import { clusterRoleAggregationController } from './clusterrole-aggregation.js';
import { resourceQuotaController } from './resource-quota.js';
import { endpointsController } from './endpoints.js';
import { endpointSliceController } from './endpointslice.js';
import { pvcProtectionController } from './pvc-protection.js';
import { pvProtectionController } from './pv-protection.js';
import { pvBinderController } from './pv-binder.js';
import { certificateSignerController } from './certificate-signer.js';
import { certificateApproverController } from './certificate-approver.js';
import { disruptionController } from './disruption.js';
import { podGcController } from './pod-gc.js';
import { nodeLifecycleController } from './node-lifecycle.js';
import { taintEvictionController } from './taint-eviction.js';

export const allControllers: readonly ControllerDefinition[] = [
  namespaceController,
  deploymentController,
  replicaSetController,
  replicationControllerController,
  statefulSetController,
  daemonSetController,
  jobController,
  cronJobController,
  ttlAfterFinishedController,
  horizontalPodAutoscalerControllerDefinition,
  garbageCollectorController,
  serviceAccountController,
  rootCaPublisher,
  clusterRoleAggregationController,
  resourceQuotaController,
  endpointsController,
  endpointSliceController,
  pvcProtectionController,
  pvProtectionController,
  pvBinderController,
  certificateApproverController,
  certificateSignerController,
  disruptionController,
  podGcController,
  nodeLifecycleController,
  taintEvictionController,
];
