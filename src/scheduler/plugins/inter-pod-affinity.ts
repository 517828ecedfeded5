/**
 * InterPodAffinity. Filter: the pod's required affinity terms need a matching pod in the node's
 * topology domain (the first pod of a group that matches its own terms may start one); its
 * required anti-affinity terms forbid domains with a matching pod; and existing pods' required
 * anti-affinity terms that match the pod forbid their domains (symmetry). Score: preferred terms
 * both ways (and existing pods' required affinity, at hardPodAffinityWeight), counted over the
 * pods of the whole cluster and min-max normalized over the nodes scored.
 * PreFilter reads matches per topology pair from the snapshot's match index (kept by the cache as
 * pods come and go) instead of walking every pod; AddPod/RemovePod adjust the counts for
 * preemption's what-ifs.
 */
import { podInfoOf, termMatches, type AffinityTerm, type NodeInfo, type PodInfo } from '../node-info.js';
import type { DomainCounts } from '../match-index.js';
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

/** "key\0value" → count (scores). */
class Counts extends Map<string, number> {
  bump(key: string, delta: number): void {
    const next = (this.get(key) ?? 0) + delta;
    if (next === 0) this.delete(key);
    else this.set(key, next);
  }
}

function pair(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

/**
 * Matching pods per topology pair: live per-domain counts from the snapshot's index (one per term
 * or distinct existing term, summed when they share a topology key) plus this cycle's own changes
 * (preemption's AddPod/RemovePod, nominated pods, terms the index cannot hold).
 */
class PairCounts {
  private readonly bases: Array<[string, DomainCounts]> = [];
  private readonly delta = new Map<string, Map<string, number>>();
  /** Every topology key with counts. */
  readonly keys = new Set<string>();

  addBase(key: string, counts: DomainCounts | undefined): void {
    if (!counts || counts.size === 0) return;
    this.bases.push([key, counts]);
    this.keys.add(key);
  }

  bump(key: string, value: string, delta: number): void {
    let values = this.delta.get(key);
    if (!values) this.delta.set(key, (values = new Map()));
    values.set(value, (values.get(value) ?? 0) + delta);
    this.keys.add(key);
  }

  get(key: string, value: string): number {
    let count = 0;
    for (let i = 0; i < this.bases.length; i++) if (this.bases[i][0] === key) count += this.bases[i][1].get(value) ?? 0;
    const own = this.delta.get(key);
    return own === undefined ? count : count + (own.get(value) ?? 0);
  }

  /** No topology pair holds a matching pod. */
  get empty(): boolean {
    for (const [key, counts] of this.bases) for (const value of counts.keys()) if (this.get(key, value) > 0) return false;
    for (const [key, values] of this.delta) for (const value of values.keys()) if (this.get(key, value) > 0) return false;
    return true;
  }

  /** A copy independent of the live index (preemption's what-ifs outlive the cycle). */
  clone(): PairCounts {
    const copy = new PairCounts();
    for (const [key, counts] of this.bases) copy.addBase(key, new Map(counts));
    for (const [key, values] of this.delta) for (const [value, n] of values) copy.bump(key, value, n);
    return copy;
  }
}

class PreFilterState {
  constructor(
    readonly info: PodInfo,
    readonly existingAntiAffinity: PairCounts,
    readonly affinity: PairCounts,
    readonly antiAffinity: PairCounts,
    readonly namespaceLabels: NamespaceLabels,
  ) {}

  clone(): PreFilterState {
    return new PreFilterState(this.info, this.existingAntiAffinity.clone(), this.affinity.clone(), this.antiAffinity.clone(), this.namespaceLabels);
  }

  /** Counts (sign 1) or uncounts (−1) `existing` on `node` (AddPod, RemovePod, terms the index cannot hold). */
  account(existing: PodInfo, node: NodeInfo, sign: 1 | -1): void {
    this.accountExisting(existing, node.labels, sign);
    this.accountOwn(this.info.requiredAffinity, this.affinity, existing, node.labels, sign);
    this.accountOwn(this.info.requiredAntiAffinity, this.antiAffinity, existing, node.labels, sign);
  }

  accountExisting(existing: PodInfo, labels: Readonly<Record<string, string>>, sign: 1 | -1): void {
    for (const term of existing.requiredAntiAffinity) {
      const value = labels[term.topologyKey];
      if (value !== undefined && termMatches(term, this.info.pod, this.namespaceLabels)) this.existingAntiAffinity.bump(term.topologyKey, value, sign);
    }
  }

  accountOwn(terms: readonly AffinityTerm[], counts: PairCounts, existing: PodInfo, labels: Readonly<Record<string, string>>, sign: 1 | -1, only?: AffinityTerm): void {
    for (const term of terms) {
      if (only && term !== only) continue;
      const value = labels[term.topologyKey];
      if (value !== undefined && termMatches(term, existing.pod, this.namespaceLabels)) counts.bump(term.topologyKey, value, sign);
    }
  }
}

/** The pod's own terms: live counts from the index; a term with a namespaceSelector is counted by a scan. */
function countOwnTerms(s: PreFilterState, terms: readonly AffinityTerm[], counts: PairCounts, snapshot: Snapshot): void {
  for (const term of terms) {
    if (!term.selector) continue;
    if (term.namespaceSelector) {
      for (const node of snapshot.nodeInfoList) for (const existing of node.pods) s.accountOwn(terms, counts, existing, node.labels, 1, term);
      continue;
    }
    counts.addBase(term.topologyKey, snapshot.matchIndex.selectorCounts(term.namespaces, term.selector, false, term.topologyKey).domains.get(term.topologyKey));
  }
}

function anyTermInDomain(terms: readonly AffinityTerm[], counts: PairCounts, node: NodeInfo): boolean {
  for (const term of terms) {
    const value = node.labels[term.topologyKey];
    if (value !== undefined && counts.get(term.topologyKey, value) > 0) return true;
  }
  return false;
}

/** Adds `weight` for `term` (of a pod on a node with `labels`) when it selects `target`. */
function scoreTerm(scores: Counts, term: AffinityTerm, target: Pod, weight: number, labels: Readonly<Record<string, string>>, namespaceLabels: NamespaceLabels): boolean {
  const value = labels[term.topologyKey];
  if (value === undefined || weight === 0 || !termMatches(term, target, namespaceLabels)) return false;
  scores.bump(pair(term.topologyKey, value), weight);
  return true;
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
      // Existing pods' anti-affinity in a domain they can repel from (the index's entries) is all that matters then.
      if (!hasOwn && !snapshot.matchIndex.hasAntiAffinity) return status.skip();
      const s = new PreFilterState(info, new PairCounts(), new PairCounts(), new PairCounts(), snapshot.namespaceLabels);
      // Existing pods' anti-affinity: once per distinct term (the index groups them by term and domain).
      const index = snapshot.matchIndex;
      if (index.hasAntiAffinity) {
        for (const entry of index.antiAffinityEntries()) if (termMatches(entry.term, pod, snapshot.namespaceLabels)) s.existingAntiAffinity.addBase(entry.term.topologyKey, entry.domains);
        for (const { info: existing, labels } of index.unindexedAntiAffinityPods()) s.accountExisting(existing, labels, 1);
      }
      countOwnTerms(s, info.requiredAffinity, s.affinity, snapshot);
      countOwnTerms(s, info.requiredAntiAffinity, s.antiAffinity, snapshot);
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
        const allSatisfied = allHaveKeys && info.requiredAffinity.every((term) => s.affinity.get(term.topologyKey, nodeInfo.labels[term.topologyKey]) > 0);
        if (!allSatisfied) {
          // No pod anywhere matches yet: a pod matching its own terms may start the group.
          const firstOfGroup = allHaveKeys && s.affinity.empty && info.requiredAffinity.every((term) => termMatches(term, pod, s.namespaceLabels));
          if (!firstOfGroup) return status.unresolvable(REASON_AFFINITY);
        }
      }
      if (info.requiredAntiAffinity.length > 0 && s.antiAffinity.keys.size > 0 && anyTermInDomain(info.requiredAntiAffinity, s.antiAffinity, nodeInfo)) {
        return status.unschedulable(REASON_ANTI_AFFINITY);
      }
      for (const key of s.existingAntiAffinity.keys) {
        const value = nodeInfo.labels[key];
        if (value !== undefined && s.existingAntiAffinity.get(key, value) > 0) return status.unschedulable(REASON_EXISTING_ANTI_AFFINITY);
      }
      return undefined;
    },
    preScore(state, pod, nodes) {
      const info = podInfoOf(pod);
      const hasPreferred = info.preferredAffinity.length > 0 || info.preferredAntiAffinity.length > 0;
      const scores = new Counts();
      const snapshot = handle?.snapshot();
      if (!hasPreferred && snapshot && !snapshot.matchIndex.hasScoringTerms) return status.skip();
      const namespaceLabels = snapshot?.namespaceLabels ?? state.read<PreFilterState>(STATE_KEY)?.namespaceLabels ?? (() => undefined);
      let any = false;
      // As upstream, the pods on every node of the cluster count, not only those on the nodes
      // being scored (a domain's score includes the pods on its nodes that were filtered out or
      // not sampled). For the pod's own preferences every pod matters; otherwise only pods with
      // affinity terms, on the nodes that hold some.
      const walked = snapshot ? (hasPreferred ? snapshot.nodeInfoList : snapshot.havePodsWithAffinityList) : nodes;
      for (const node of walked) {
        const labels = node.labels;
        for (const existing of hasPreferred ? node.pods : node.podsWithAffinity) {
          for (const term of info.preferredAffinity) any = scoreTerm(scores, term, existing.pod, term.weight, labels, namespaceLabels) || any;
          for (const term of info.preferredAntiAffinity) any = scoreTerm(scores, term, existing.pod, -term.weight, labels, namespaceLabels) || any;
          if (hardWeight > 0) for (const term of existing.requiredAffinity) any = scoreTerm(scores, term, pod, hardWeight, labels, namespaceLabels) || any;
          if (!ignoreExistingPreferred) {
            for (const term of existing.preferredAffinity) any = scoreTerm(scores, term, pod, term.weight, labels, namespaceLabels) || any;
            for (const term of existing.preferredAntiAffinity) any = scoreTerm(scores, term, pod, -term.weight, labels, namespaceLabels) || any;
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

