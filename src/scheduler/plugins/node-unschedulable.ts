/** NodeUnschedulable (Filter): a cordoned node (spec.unschedulable) takes only pods tolerating node.kubernetes.io/unschedulable:NoSchedule. */
import { toleratesTaint, type Toleration } from '../../api/taints.js';
import { status, type Plugin } from '../types.js';

export const NAME = 'NodeUnschedulable';
export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export function nodeUnschedulable(): Plugin {
  return {
    name: NAME,
    events: ['Node/Add', 'Node/UpdateNodeSpecUnschedulable', 'Node/UpdateNodeTaint'],
    filter(_state, pod, nodeInfo) {
      if (!nodeInfo.unschedulable) return undefined;
      const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
      if (tolerations.some((t) => toleratesTaint(t, UNSCHEDULABLE_TAINT))) return undefined;
      return status.unresolvable(REASON_UNSCHEDULABLE);
    },
  };
}
