/** NodeName (Filter): a pod naming a node in spec.nodeName fits that node only. */
import { status, type Plugin } from '../types.js';

export const NAME = 'NodeName';
export const REASON = "node(s) didn't match the requested node name";

export function nodeName(): Plugin {
  return {
    name: NAME,
    events: ['Node/Add', 'Node/Update'],
    filter(_state, pod, nodeInfo) {
      const wanted = pod.spec?.nodeName;
      if (!wanted || wanted === nodeInfo.name) return undefined;
      return status.unresolvable(REASON);
    },
  };
}
