/**
 * The ReplicationController controller (core/v1): the ReplicaSet controller's logic over the
 * older kind, whose selector is a plain label map (upstream runs the same code through an adapter).
 */
import { isPlainObject } from '../api/object.js';
import type { LabelSelector } from '../api/selectors.js';
import { REPLICATION_CONTROLLERS } from '../client/resource-types.js';
import type { ControllerDefinition } from './manager.js';
import { startReplicaManager } from './replicaset/replica-manager.js';

export const replicationControllerController: ControllerDefinition = {
  name: 'replicationcontroller-controller',
  aliases: ['replicationcontroller'],
  serviceAccount: 'replication-controller',
  eventSource: 'replication-controller',
  workersFlag: { name: 'concurrent-rc-syncs', default: 5 },
  start: (context) =>
    startReplicaManager(context, {
      type: REPLICATION_CONTROLLERS,
      selector: (controller): LabelSelector | undefined => {
        const selector = controller.spec?.selector;
        if (!isPlainObject(selector)) return undefined;
        return Object.entries(selector).map(([key, value]) => ({ key, op: 'in' as const, values: [String(value)] }));
      },
    }),
};
