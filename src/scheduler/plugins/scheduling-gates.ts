/** SchedulingGates (PreEnqueue): a pod with spec.schedulingGates waits outside activeQ until they are all removed. */
import { status, type Plugin } from '../types.js';

export const NAME = 'SchedulingGates';

export function schedulingGates(): Plugin {
  return {
    name: NAME,
    preEnqueue(pod) {
      const gates: Array<{ name: string }> = pod.spec?.schedulingGates ?? [];
      if (gates.length === 0) return undefined;
      return status.unresolvable(`waiting for scheduling gates: [${gates.map((g) => g.name).join(' ')}]`);
    },
  };
}
