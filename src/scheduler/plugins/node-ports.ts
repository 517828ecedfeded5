/** NodePorts (Filter): the pod's host ports must be free on the node (0.0.0.0 conflicts with every address). */
import { podInfoOf, type HostPort } from '../node-info.js';
import { status, type Plugin } from '../types.js';

export const NAME = 'NodePorts';
export const REASON = "node(s) didn't have free ports for the requested pod ports";
const STATE_KEY = 'PreFilter' + NAME;

export function nodePorts(): Plugin {
  return {
    name: NAME,
    events: ['Pod/Delete', 'Node/Add', 'Node/Update'],
    preFilter(state, pod) {
      const ports = podInfoOf(pod).hostPorts;
      if (ports.length === 0) return status.skip();
      state.write(STATE_KEY, ports);
      return undefined;
    },
    filter(state, _pod, nodeInfo) {
      const ports = state.read<readonly HostPort[]>(STATE_KEY) ?? [];
      for (const port of ports) if (nodeInfo.portInUse(port)) return status.unschedulable(REASON);
      return undefined;
    },
  };
}
