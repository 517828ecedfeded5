/** The ReplicaSet controller (apps/v1): pods by `spec.selector`, a metav1.LabelSelector. */
import { isPlainObject } from '../api/object.js';
import { selectorFromSpec } from '../api/selectors.js';
import { REPLICA_SETS } from '../client/resource-types.js';
import type { ControllerDefinition } from './manager.js';
import { startReplicaManager } from './replicaset/replica-manager.js';

export const replicaSetController: ControllerDefinition = {
  name: 'replicaset-controller',
  aliases: ['replicaset'],
  serviceAccount: 'replicaset-controller',
  workersFlag: { name: 'concurrent-replicaset-syncs', default: 5 },
  start: (context) =>
    startReplicaManager(context, {
      type: REPLICA_SETS,
      selector: (replicaSet) => (isPlainObject(replicaSet.spec?.selector) ? selectorFromSpec(replicaSet.spec.selector) : undefined),
    }),
};
