/** Every in-tree plugin by name, and how to build it from its args (upstream's in-tree registry). */
import type { ApiClient } from '../../client/api-client.js';
import type { InformerFactory } from '../../client/informer-factory.js';
import type { EventRecorder } from '../../client/event-recorder.js';
import type { Handle, Plugin } from '../types.js';
import { prioritySort, NAME as PRIORITY_SORT } from './priority-sort.js';
import { schedulingGates, NAME as SCHEDULING_GATES } from './scheduling-gates.js';
import { nodeUnschedulable, NAME as NODE_UNSCHEDULABLE } from './node-unschedulable.js';
import { nodeName, NAME as NODE_NAME } from './node-name.js';
import { taintToleration, NAME as TAINT_TOLERATION } from './taint-toleration.js';
import { nodeAffinity, NAME as NODE_AFFINITY, type NodeAffinityArgs } from './node-affinity.js';
import { nodePorts, NAME as NODE_PORTS } from './node-ports.js';
import { nodeResourcesFit, NAME as NODE_RESOURCES_FIT, type NodeResourcesFitArgs } from './node-resources-fit.js';
import { balancedAllocation, NAME as BALANCED_ALLOCATION, type BalancedAllocationArgs } from './balanced-allocation.js';
import { defaultBinder, NAME as DEFAULT_BINDER } from './default-binder.js';
import { defaultPreemption, NAME as DEFAULT_PREEMPTION, type DefaultPreemptionArgs } from './default-preemption.js';
import { interPodAffinity, NAME as INTER_POD_AFFINITY, type InterPodAffinityArgs } from './inter-pod-affinity.js';
import { podTopologySpread, NAME as POD_TOPOLOGY_SPREAD, type PodTopologySpreadArgs } from './pod-topology-spread.js';
import { imageLocality, NAME as IMAGE_LOCALITY } from './image-locality.js';
import { volumeBinding, NAME as VOLUME_BINDING, type VolumeBindingArgs } from './volume-binding.js';
import { volumeRestrictions, NAME as VOLUME_RESTRICTIONS } from './volume-restrictions.js';
import { PERSISTENT_VOLUME_CLAIMS, POD_DISRUPTION_BUDGETS, PODS, REPLICA_SETS, REPLICATION_CONTROLLERS, SERVICES, STATEFUL_SETS } from '../../client/resource-types.js';
import type { SchedulerMetrics } from '../metrics.js';

/** What a plugin may use besides its args. */
export interface PluginContext {
  client: ApiClient;
  informers: InformerFactory;
  recorder: EventRecorder;
  handle: Handle;
  schedulerName: string;
  metrics?: SchedulerMetrics;
}

export type PluginFactory = (args: Record<string, unknown>, context: PluginContext) => Plugin;

export const IN_TREE_PLUGINS = new Map<string, PluginFactory>([
  [PRIORITY_SORT, () => prioritySort()],
  [SCHEDULING_GATES, () => schedulingGates()],
  [NODE_UNSCHEDULABLE, () => nodeUnschedulable()],
  [NODE_NAME, () => nodeName()],
  [TAINT_TOLERATION, () => taintToleration()],
  [NODE_AFFINITY, (args) => nodeAffinity(args as NodeAffinityArgs)],
  [NODE_PORTS, () => nodePorts()],
  [NODE_RESOURCES_FIT, (args) => nodeResourcesFit(args as NodeResourcesFitArgs)],
  [BALANCED_ALLOCATION, (args) => balancedAllocation(args as BalancedAllocationArgs)],
  [INTER_POD_AFFINITY, (args, context) => interPodAffinity(args as InterPodAffinityArgs, context.handle)],
  [
    POD_TOPOLOGY_SPREAD,
    (args, { informers, handle }) =>
      podTopologySpread(
        args as PodTopologySpreadArgs,
        {
          services: informers.informer(SERVICES).lister,
          replicaSets: informers.informer(REPLICA_SETS).lister,
          statefulSets: informers.informer(STATEFUL_SETS).lister,
          replicationControllers: informers.informer(REPLICATION_CONTROLLERS).lister,
        },
        () => handle.snapshot(),
      ),
  ],
  [VOLUME_RESTRICTIONS, (_args, { informers }) => volumeRestrictions(informers.informer(PERSISTENT_VOLUME_CLAIMS).lister)],
  [VOLUME_BINDING, (args, { client, informers }) => volumeBinding(args as VolumeBindingArgs, client, informers)],
  [IMAGE_LOCALITY, (_args, context) => imageLocality(() => context.handle.snapshot())],
  [DEFAULT_BINDER, (_args, context) => defaultBinder(context.client)],
  [
    DEFAULT_PREEMPTION,
    (args, context) =>
      defaultPreemption(args as DefaultPreemptionArgs, {
        ...context,
        pods: context.informers.informer(PODS).lister,
        podDisruptionBudgets: context.informers.informer(POD_DISRUPTION_BUDGETS).lister,
      }),
  ],
]);
