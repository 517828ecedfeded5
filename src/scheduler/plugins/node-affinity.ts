/**
 * NodeAffinity. Filter: spec.nodeSelector and required node affinity (and the profile's
 * addedAffinity) must match the node. PreFilter narrows the nodes when every required term pins
 * metadata.name. Score: the summed weights of the preferred terms the node matches, normalized.
 */
import { nodeSelectorMatches, nodeSelectorTermMatches, requiredNodeAffinityMatches, type NodeSelectorTerm } from '../../api/node-affinity.js';
import { status, type Plugin } from '../types.js';
import { defaultNormalizeScore } from './helpers.js';

export const NAME = 'NodeAffinity';
export const REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity";

export interface NodeAffinityArgs {
  /** Applied to every pod of the profile, on top of its own affinity. */
  addedAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
    preferredDuringSchedulingIgnoredDuringExecution?: Array<{ weight: number; preference: NodeSelectorTerm }>;
  };
}

interface Preferred {
  weight: number;
  preference: NodeSelectorTerm;
}

export function nodeAffinity(args: NodeAffinityArgs = {}): Plugin {
  const addedRequired = args.addedAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const addedPreferred: Preferred[] = args.addedAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  return {
    name: NAME,
    events: ['Node/Add', 'Node/UpdateNodeLabel'],
    preFilter(_state, pod) {
      const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
      if (!pod.spec?.nodeSelector && !required && !addedRequired) return status.skip();
      const terms: NodeSelectorTerm[] = required?.nodeSelectorTerms ?? [];
      if (terms.length === 0) return undefined;
      // Every term must pin metadata.name for the node set to be narrowed; the union of the names.
      const names = new Set<string>();
      for (const term of terms) {
        const pinned = (term.matchFields ?? []).find((f) => f.key === 'metadata.name' && f.operator === 'In');
        if (!pinned) return undefined;
        for (const name of pinned.values ?? []) names.add(name);
      }
      if (names.size === 0) return { status: status.unresolvable(REASON_POD) };
      return { result: { nodeNames: names } };
    },
    filter(_state, pod, nodeInfo) {
      const node = nodeInfo.node!;
      if (addedRequired && !nodeSelectorMatches(addedRequired, node)) return status.unresolvable(REASON_ENFORCED);
      if (!requiredNodeAffinityMatches(pod.spec ?? {}, node)) return status.unresolvable(REASON_POD);
      return undefined;
    },
    preScore(state, pod) {
      const preferred: Preferred[] = [...addedPreferred, ...(pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])];
      if (preferred.length === 0) return status.skip();
      state.write('PreScore' + NAME, preferred);
      return undefined;
    },
    score(state, _pod, nodeInfo) {
      let total = 0;
      for (const term of state.read<Preferred[]>('PreScore' + NAME) ?? []) if (term.weight !== 0 && nodeSelectorTermMatches(term.preference, nodeInfo.node!)) total += term.weight;
      return total;
    },
    normalizeScore(_state, _pod, scores) {
      defaultNormalizeScore(scores, false);
    },
  };
}
