/**
 * Counts of pods matching a label selector, per topology domain, kept as pods come and go, so
 * InterPodAffinity and PodTopologySpread do not walk every pod of the cluster per decision (what
 * upstream's PreFilter would do, in parallel, with topology-pair counts).
 *
 * - `selectorCounts`: for a (namespaces, selector) pair — an affinity term of the incoming pod or
 *   a spread constraint — how many pods match on each node and in each value of a topology key.
 *   An entry is built by one scan of the pods the first time it is asked for, then maintained
 *   incrementally; the least recently used entries beyond a bound are dropped.
 * - `antiAffinityEntries`: existing pods' required anti-affinity terms grouped by identical term
 *   (namespaces, selector, topology key), each with the domains its pods occupy — so symmetry is
 *   checked once per distinct term instead of once per pod. Terms with a namespaceSelector depend
 *   on namespace labels: their pods are listed apart (`unindexedAntiAffinityPods`).
 * - `hasScoringTerms`: whether any pod has terms that score other pods (required affinity,
 *   preferred affinity or anti-affinity), so InterPodAffinity's Score can skip the walk.
 *
 * The cache feeds one index from its own NodeInfos; a Snapshot built without a cache (plugin unit
 * tests) builds a static one from its node list. Both answer the same questions, so plugins have
 * one code path. Counts are read live during a (synchronous) scheduling cycle; plugins copy what
 * they keep beyond it.
 */
import { matchesLabels, type LabelSelector } from '../api/selectors.js';
import type { AffinityTerm, PodInfo } from './node-info.js';
import type { Pod } from './types.js';

/** Topology value → matching pods. */
export type DomainCounts = Map<string, number>;
type Labels = Readonly<Record<string, string>>;

/** Iterates every pod with its node's name and labels (undefined labels: the node is gone). */
export type PodSource = (visit: (info: PodInfo, nodeName: string, labels: Labels | undefined) => void) => void;

export interface SelectorEntry {
  readonly namespaces: ReadonlySet<string>;
  readonly selector: LabelSelector;
  /** Terminating pods do not count (topology spread, as upstream); they do for affinity. */
  readonly skipTerminating: boolean;
  /** Node name → matching pods there. */
  readonly perNode: Map<string, number>;
  /** Topology key → counts per value (only keys asked for). */
  readonly domains: Map<string, DomainCounts>;
  total: number;
  used: number;
}

export interface AntiAffinityEntry {
  readonly term: AffinityTerm;
  /** Values of term.topologyKey → existing pods with this term there. */
  readonly domains: DomainCounts;
  total: number;
}

const MAX_SELECTOR_ENTRIES = 128;

function bump(map: Map<string, number>, key: string, delta: number): void {
  const next = (map.get(key) ?? 0) + delta;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

const termSignatures = new WeakMap<AffinityTerm, string>();

/** Identical terms (namespaces, selector, topology key) share one signature. */
export function termSignature(term: AffinityTerm): string {
  let signature = termSignatures.get(term);
  if (signature === undefined) {
    signature = JSON.stringify([term.topologyKey, [...term.namespaces].sort(), term.selector ?? null]);
    termSignatures.set(term, signature);
  }
  return signature;
}

function selectorMatches(entry: SelectorEntry, pod: Pod): boolean {
  return entry.namespaces.has(pod.metadata.namespace!) && !(entry.skipTerminating && pod.metadata.deletionTimestamp) && matchesLabels(entry.selector, pod.metadata.labels);
}

export class PodMatchIndex {
  private readonly selectors = new Map<string, SelectorEntry>();
  private readonly antiAffinity = new Map<string, AntiAffinityEntry>();
  private readonly unindexedAnti = new Map<string, { info: PodInfo; labels: Labels }>();
  private scoringTermPods = 0;
  private clock = 0;

  /** `source` is scanned when a new selector is first asked for; `live` when it is also fed with changes. */
  constructor(private readonly source: PodSource, private readonly live: boolean) {
    if (!live) source((info, _node, labels) => labels && this.accountTerms(info, labels, 1));
  }

  /**
   * Pods in `namespaces` matching `selector` (without the terminating ones when `skipTerminating`):
   * counts per node and, for `topologyKey`, per domain. Live: read, never modify.
   */
  selectorCounts(namespaces: ReadonlySet<string>, selector: LabelSelector, skipTerminating: boolean, topologyKey?: string): SelectorEntry {
    const signature = JSON.stringify([[...namespaces].sort(), selector, skipTerminating]);
    let entry = this.selectors.get(signature);
    if (!entry) {
      if (this.selectors.size >= MAX_SELECTOR_ENTRIES) this.evict();
      entry = { namespaces, selector, skipTerminating, perNode: new Map(), domains: new Map(), total: 0, used: 0 };
      const created = entry;
      this.source((info, nodeName, labels) => {
        if (!labels || !selectorMatches(created, info.pod)) return;
        bump(created.perNode, nodeName, 1);
        created.total++;
      });
      this.selectors.set(signature, entry);
    }
    entry.used = ++this.clock;
    if (topologyKey !== undefined && !entry.domains.has(topologyKey)) entry.domains.set(topologyKey, this.domainsOf(entry, topologyKey));
    return entry;
  }

  /** Distinct existing required anti-affinity terms with the domains their pods hold. */
  antiAffinityEntries(): Iterable<AntiAffinityEntry> {
    return this.antiAffinity.values();
  }

  /** Whether any pod on a node with the term's topology key has required anti-affinity. */
  get hasAntiAffinity(): boolean {
    return this.antiAffinity.size > 0 || this.unindexedAnti.size > 0;
  }

  /** Whether any pod (on a node with a Node object) has terms that score other pods. */
  get hasScoringTerms(): boolean {
    return this.scoringTermPods > 0;
  }

  /** Pods whose anti-affinity terms use a namespaceSelector (judged one by one). */
  unindexedAntiAffinityPods(): Iterable<{ info: PodInfo; labels: Labels }> {
    return this.unindexedAnti.values();
  }

  /** The cache's feed: `info` came (1) or went (−1) on a node with these labels (undefined: no Node object). */
  podChanged(info: PodInfo, nodeName: string, labels: Labels | undefined, sign: 1 | -1): void {
    if (!this.live || !labels) return;
    for (const entry of this.selectors.values()) {
      if (!selectorMatches(entry, info.pod)) continue;
      bump(entry.perNode, nodeName, sign);
      entry.total += sign;
      for (const [key, counts] of entry.domains) {
        const value = labels[key];
        if (value !== undefined) bump(counts, value, sign);
      }
    }
    this.accountTerms(info, labels, sign);
  }

  /** A node's labels changed (or it appeared or went): its pods move between domains. */
  nodeRelabelled(pods: readonly PodInfo[], nodeName: string, before: Labels | undefined, after: Labels | undefined): void {
    if (!this.live || pods.length === 0) return;
    for (const info of pods) this.podChanged(info, nodeName, before, -1);
    for (const info of pods) this.podChanged(info, nodeName, after, 1);
  }

  private accountTerms(info: PodInfo, labels: Labels, sign: 1 | -1): void {
    if (info.requiredAffinity.length + info.preferredAffinity.length + info.preferredAntiAffinity.length > 0) this.scoringTermPods += sign;
    if (info.requiredAntiAffinity.length === 0) return;
    if (info.requiredAntiAffinity.some((term) => term.namespaceSelector)) {
      if (sign > 0) this.unindexedAnti.set(info.key, { info, labels });
      else this.unindexedAnti.delete(info.key);
      return;
    }
    for (const term of info.requiredAntiAffinity) {
      const value = labels[term.topologyKey];
      if (value === undefined) continue;
      const signature = termSignature(term);
      let entry = this.antiAffinity.get(signature);
      if (!entry) {
        if (sign < 0) continue;
        this.antiAffinity.set(signature, (entry = { term, domains: new Map(), total: 0 }));
      }
      bump(entry.domains, value, sign);
      entry.total += sign;
      if (entry.total <= 0) this.antiAffinity.delete(signature);
    }
  }

  private domainsOf(entry: SelectorEntry, topologyKey: string): DomainCounts {
    const counts: DomainCounts = new Map();
    if (entry.total === 0) return counts;
    this.source((info, _nodeName, labels) => {
      if (!labels || !selectorMatches(entry, info.pod)) return;
      const value = labels[topologyKey];
      if (value !== undefined) bump(counts, value, 1);
    });
    return counts;
  }

  private evict(): void {
    const entries = [...this.selectors].sort((a, b) => a[1].used - b[1].used);
    for (const [signature] of entries.slice(0, entries.length / 4)) this.selectors.delete(signature);
  }
}
