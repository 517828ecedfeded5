/**
 * TaintToleration. Filter: a NoSchedule or NoExecute taint the pod does not tolerate rules the
 * node out. Score: fewer untolerated PreferNoSchedule taints is better (normalized, reversed).
 */
import { toleratesTaint, type Taint, type Toleration } from '../../api/taints.js';
import { status, type Plugin } from '../types.js';
import { defaultNormalizeScore } from './helpers.js';

export const NAME = 'TaintToleration';
const PRE_SCORE_KEY = 'PreScore' + NAME;

export function untoleratedTaintReason(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
}

export function taintToleration(): Plugin {
  return {
    name: NAME,
    events: ['Node/Add', 'Node/UpdateNodeTaint'],
    filter(_state, pod, nodeInfo) {
      const taints = nodeInfo.taints;
      if (taints.length === 0) return undefined;
      const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
      for (const taint of taints) {
        if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
        if (!tolerations.some((t) => toleratesTaint(t, taint))) return status.unresolvable(untoleratedTaintReason(taint));
      }
      return undefined;
    },
    preScore(state, pod) {
      // Only tolerations that can tolerate PreferNoSchedule count for scoring.
      const tolerations = ((pod.spec?.tolerations ?? []) as Toleration[]).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
      state.write(PRE_SCORE_KEY, tolerations);
      return undefined;
    },
    score(state, _pod, nodeInfo) {
      const taints = nodeInfo.taints;
      if (taints.length === 0) return 0;
      const tolerations = state.read<Toleration[]>(PRE_SCORE_KEY) ?? [];
      let count = 0;
      for (const taint of taints) if (taint.effect === 'PreferNoSchedule' && !tolerations.some((t) => toleratesTaint(t, taint))) count++;
      return count;
    },
    normalizeScore(_state, _pod, scores) {
      defaultNormalizeScore(scores, true);
    },
  };
}
