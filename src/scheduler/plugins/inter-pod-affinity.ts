/**
 * InterPodAffinity. Filter: the pod's required affinity terms need a matching pod in the node's
 * topology domain (the first pod of a group that matches its own terms may start one); its
 * required anti-affinity terms forbid domains with a matching pod; and existing pods' required
 * anti-affinity terms that match the pod forbid their domains (symmetry). Score: preferred terms
 * both ways (and existing pods' required affinity, at hardPodAffinityWeight), min-max normalized.
 * PreFilter counts matches per topology pair once per cycle; AddPod/RemovePod keep the counts
 * right for preemption's what-ifs.
 */
import { podInfoOf, termMatches, type AffinityTerm, type NodeInfo, type PodInfo } from '../node-info.js';
import type { Snapshot } from '../snapshot.js';
import { MAX_NODE_SCORE, status, type Handle, type Plugin, type Pod } from '../types.js';

export const NAME = 'InterPodAffinity';
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
const STATE_KEY = 'PreFilter' + NAME;
const SCORE_KEY = 'PreScore' + NAME;

export interface InterPodAffinityArgs {
  hardPodAffinityWeight?: number;
  ignorePreferredTermsOfExistingPods?: boolean;
}

type NamespaceLabels = (namespace: string) => Record<string, string> | undefined;

/** "key\0value" → count. */
class Counts extends Map<string, number> {
  bump(key: string, delta: number): void {
    const next = (this.get(key) ?? 0) + delta;
    if (next === 0) this.delete(key);
    else this.set(key, next);
  }

  clone(): Counts {
    return new Counts(this);
  }
}

function pair(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

class PreFilterState {
  constructor(
    readonly info: PodInfo,
    readonly existingAntiAffinity: Counts,
    readonly affinity: Counts,
    readonly antiAffinity: Counts,
    readonly namespaceLabels: NamespaceLabels,
  ) {}

  clone(): PreFilterState {
    return new PreFilterState(this.info, this.existingAntiAffinity.clone(), this.affinity.clone(), this.antiAffinity.clone(), this.namespaceLabels);
  }

  /** Counts (sign 1) or uncounts (−1) `existing` on `node` (PreFilter, AddPod, RemovePod). */
  account(existing: PodInfo, node: NodeInfo, sign: 1 | -1): void {
    const labels = node.labels;
    const incoming = this.info.pod;
    for (const term of existing.requiredAntiAffinity) {
      const value = labels[term.topologyKey];
      if (value !== undefined && termMatches(term, incoming, this.namespaceLabels)) this.existingAntiAffinity.bump(pair(term.topologyKey, value), sign);
    }
    for (const term of this.info.requiredAffinity) {
      const value = labels[term.topologyKey];
      if (value !== undefined && termMatches(term, existing.pod, this.namespaceLabels)) this.affinity.bump(pair(term.topologyKey, value), sign);
    }
    for (const term of this.info.requiredAntiAffinity) {
      const value = labels[term.topologyKey];
      if (value !== undefined && termMatches(term, existing.pod, this.namespaceLabels)) this.antiAffinity.bump(pair(term.topologyKey, value), sign);
    }
  }
}

function anyTermInDomain(terms: readonly AffinityTerm[], counts: Counts, node: NodeInfo): boolean {
  for (const term of terms) {
    const value = node.labels[term.topologyKey];
    if (value !== undefined && (counts.get(pair(term.topologyKey, value)) ?? 0) > 0) return true;
  }
  return false;
}

export function interPodAffinity(args: InterPodAffinityArgs = {}, handle?: Handle): Plugin {
  const hardWeight = args.hardPodAffinityWeight ?? 1;
  const ignoreExistingPreferred = args.ignorePreferredTermsOfExistingPods ?? false;
  return {
    name: NAME,
    events: ['Pod/*', 'Node/Add', 'Node/UpdateNodeLabel', 'Namespace/*'],
    preFilter(state, pod, snapshot: Snapshot) {
      const info = podInfoOf(pod);
      const hasOwn = info.requiredAffinity.length > 0 || info.requiredAntiAffinity.length > 0;
      if (!hasOwn && snapshot.havePodsWithRequiredAntiAffinityList.length === 0) return status.skip();
      const s = new PreFilterState(info, new Counts(), new Counts(), new Counts(), snapshot.namespaceLabels);
      // Existing pods' anti-affinity: only nodes holding such pods. The pod's own terms: every node.
      const nodes = hasOwn ? snapshot.nodeInfoList : snapshot.havePodsWithRequiredAntiAffinityList;
      for (const node of nodes) {
        if (hasOwn) for (const existing of node.pods) s.account(existing, node, 1);
        else for (const existing of node.podsWithRequiredAntiAffinity) s.account(existing, node, 1);
      }
      state.write(STATE_KEY, s);
      return undefined;
    },
    addPod(state, _pod, added, nodeInfo) {
      state.read<PreFilterState>(STATE_KEY)?.account(added, nodeInfo, 1);
    },
    removePod(state, _pod, removed, nodeInfo) {
      state.read<PreFilterState>(STATE_KEY)?.account(removed, nodeInfo, -1);
    },
    filter(state, pod, nodeInfo) {
      const s = state.read<PreFilterState>(STATE_KEY);
      if (!s) return undefined;
      const info = s.info;
      if (info.requiredAffinity.length > 0) {
        const allHaveKeys = info.requiredAffinity.every((term) => nodeInfo.labels[term.topologyKey] !== undefined);
        const allSatisfied = allHaveKeys && info.requiredAffinity.every((term) => (s.affinity.get(pair(term.topologyKey, nodeInfo.labels[term.topologyKey])) ?? 0) > 0);
        if (!allSatisfied) {
          // No pod anywhere matches yet: a pod matching its own terms may start the group.
          const firstOfGroup = allHaveKeys && s.affinity.size === 0 && info.requiredAffinity.every((term) => termMatches(term, pod, s.namespaceLabels));
          if (!firstOfGroup) return status.unresolvable(REASON_AFFINITY);
        }
      }
      if (info.requiredAntiAffinity.length > 0 && s.antiAffinity.size > 0 && anyTermInDomain(info.requiredAntiAffinity, s.antiAffinity, nodeInfo)) {
        return status.unschedulable(REASON_ANTI_AFFINITY);
      }
      if (s.existingAntiAffinity.size > 0) {
        for (const [key, value] of Object.entries(nodeInfo.labels)) {
          if ((s.existingAntiAffinity.get(pair(key, value)) ?? 0) > 0) return status.unschedulable(REASON_EXISTING_ANTI_AFFINITY);
        }
      }
      return undefined;
    },
    preScore(state, pod, nodes) {
      const info = podInfoOf(pod);
      const hasPreferred = info.preferredAffinity.length > 0 || info.preferredAntiAffinity.length > 0;
      const scores = new Counts();
      const namespaceLabels = handle?.snapshot().namespaceLabels ?? state.read<PreFilterState>(STATE_KEY)?.namespaceLabels ?? (() => undefined);
      let any = false;
      // Pods on every feasible node matter for the pod's own preferences; otherwise only pods with affinity terms.
      for (const node of nodes) {
        const pods = hasPreferred ? node.pods : node.podsWithAffinity;
        for (const existing of pods) {
          const labels = node.labels;
          const add = (term: AffinityTerm, target: Pod, weight: number) => {
            const value = labels[term.topologyKey];
            if (value === undefined || weight === 0 || !termMatches(term, target, namespaceLabels)) return;
            scores.bump(pair(term.topologyKey, value), weight);
            any = true;
          };
          for (const term of info.preferredAffinity) add(term, existing.pod, term.weight);
          for (const term of info.preferredAntiAffinity) add(term, existing.pod, -term.weight);
          if (hardWeight > 0) for (const term of existing.requiredAffinity) add(term, pod, hardWeight);
          if (!ignoreExistingPreferred) {
            for (const term of existing.preferredAffinity) add(term, pod, term.weight);
            for (const term of existing.preferredAntiAffinity) add(term, pod, -term.weight);
          }
        }
      }
      if (!any) return status.skip();
      state.write(SCORE_KEY, scores);
      return undefined;
    },
    score(state, _pod, nodeInfo) {
      const scores = state.read<Counts>(SCORE_KEY)!;
      let total = 0;
      for (const [key, value] of Object.entries(nodeInfo.labels)) total += scores.get(pair(key, value)) ?? 0;
      return total;
    },
    normalizeScore(_state, _pod, scores) {
      let min = Infinity;
      let max = -Infinity;
      for (const s of scores) {
        if (s < min) min = s;
        if (s > max) max = s;
      }
      for (let i = 0; i < scores.length; i++) scores[i] = max === min ? 0 : Math.trunc((MAX_NODE_SCORE * (scores[i] - min)) / (max - min));
    },
  };
}

