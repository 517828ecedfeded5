/**
 * PodTopologySpread. Filter (whenUnsatisfiable: DoNotSchedule): placing the pod in the node's
 * domain must keep (matching pods there + 1) − (the fewest in any eligible domain) ≤ maxSkew;
 * fewer domains than minDomains make that minimum 0; a node without the topology key cannot
 * take the pod. Eligible nodes follow nodeAffinityPolicy (Honor: the pod's node selector and
 * required affinity) and nodeTaintsPolicy (Ignore by default); matchLabelKeys add the pod's own
 * label values to the selector. Score (ScheduleAnyway, or the system default constraints —
 * hostname maxSkew 3, zone maxSkew 5 — with the selector of the pod's Services and controllers
 * when it declares none): fewer matching pods in the node's domains is better.
 */
import { requiredNodeAffinityMatches } from '../../api/node-affinity.js';
import { matchesLabels, selectorFromSpec, type LabelSelector } from '../../api/selectors.js';
import { toleratesTaint, type Toleration } from '../../api/taints.js';
import type { Lister } from '../../client/informer.js';
import type { NodeInfo, PodInfo } from '../node-info.js';
import { Snapshot } from '../snapshot.js';
import { MAX_NODE_SCORE, status, type Plugin, type Pod } from '../types.js';

export const NAME = 'PodTopologySpread';
export const REASON_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const REASON_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";
const STATE_KEY = 'PreFilter' + NAME;
const SCORE_KEY = 'PreScore' + NAME;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

export interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: LabelSelector;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
}

export interface PodTopologySpreadArgs {
  defaultConstraints?: Fields[];
  defaultingType?: 'System' | 'List';
}

export interface SpreadListers {
  services?: Lister;
  replicaSets?: Lister;
  statefulSets?: Lister;
  replicationControllers?: Lister;
}

const SYSTEM_DEFAULTS: Fields[] = [
  { maxSkew: 3, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' },
  { maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
];

function constraintsOf(pod: Pod, raw: Fields[], selector?: LabelSelector): Constraint[] {
  const labels: Record<string, string> = pod.metadata.labels ?? {};
  return raw.map((c) => {
    let own = selector ?? (c.labelSelector ? selectorFromSpec(c.labelSelector) : [{ key: '\u0000never', op: 'exists' as const }]);
    for (const key of c.matchLabelKeys ?? []) if (labels[key] !== undefined) own = [...own, { key, op: 'in' as const, values: [labels[key]] }];
    return { maxSkew: c.maxSkew ?? 1, topologyKey: c.topologyKey, selector: own, minDomains: c.minDomains ?? 1, honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor', honorTaints: c.nodeTaintsPolicy === 'Honor' };
  });
}

/** Whether the node counts as a domain member for `pod` under the constraint's policies. */
function eligible(constraint: Constraint, pod: Pod, node: NodeInfo): boolean {
  if (constraint.honorAffinity && !requiredNodeAffinityMatches(pod.spec ?? {}, node.node!)) return false;
  if (constraint.honorTaints) {
    const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
    for (const taint of node.taints) if ((taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerations.some((t) => toleratesTaint(t, taint))) return false;
  }
  return true;
}

/** Whether every node is a domain member for `pod` under the constraint's policies (no per-node check needed). */
function everyNodeEligible(constraint: Constraint, pod: Pod): boolean {
  if (constraint.honorTaints) return false;
  if (!constraint.honorAffinity) return true;
  const spec = pod.spec ?? {};
  return Object.keys(spec.nodeSelector ?? {}).length === 0 && !spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
}

class SpreadState {
  /** Per constraint: the fewest matching pods in an eligible domain (minDomains applied). */
  private readonly mins: number[];
  /** Per constraint: whether the incoming pod matches its own selector. */
  readonly selfMatches: number[];

  constructor(
    readonly constraints: Constraint[],
    /** Per constraint: domain value → matching pods. */
    readonly counts: Array<Map<string, number>>,
    pod: Pod,
  ) {
    this.mins = constraints.map((_c, i) => this.computeMin(i));
    this.selfMatches = constraints.map((c) => (matchesLabels(c.selector, pod.metadata.labels) ? 1 : 0));
  }

  clone(): SpreadState {
    const copy = Object.create(SpreadState.prototype) as SpreadState;
    Object.assign(copy, { constraints: this.constraints, counts: this.counts.map((m) => new Map(m)), mins: [...this.mins], selfMatches: this.selfMatches });
    return copy;
  }

  minMatch(i: number): number {
    return this.mins[i];
  }

  private computeMin(i: number): number {
    const counts = this.counts[i];
    if (counts.size < this.constraints[i].minDomains) return 0;
    let min = Infinity;
    for (const value of counts.values()) if (value < min) min = value;
    return min === Infinity ? 0 : min;
  }

  update(pod: Pod, changed: PodInfo, node: NodeInfo, sign: 1 | -1): void {
    if (changed.pod.metadata.namespace !== pod.metadata.namespace) return;
    this.constraints.forEach((c, i) => {
      const value = node.labels[c.topologyKey];
      if (value === undefined || !this.counts[i].has(value) || !matchesLabels(c.selector, changed.pod.metadata.labels)) return;
      this.counts[i].set(value, this.counts[i].get(value)! + sign);
      this.mins[i] = this.computeMin(i);
    });
  }
}

/** A snapshot over just these nodes (a plugin used without a scheduler, as in unit tests). */
function standaloneSnapshot(nodes: readonly NodeInfo[]): Snapshot {
  const snapshot = new Snapshot();
  snapshot.nodeInfoList = [...nodes];
  return snapshot;
}

/** `snapshotOf`: the scheduler's current snapshot (its match index); without it, one over the scored nodes. */
export function podTopologySpread(args: PodTopologySpreadArgs = {}, listers: SpreadListers = {}, snapshotOf?: () => Snapshot): Plugin {
  const defaults = args.defaultingType === 'List' ? (args.defaultConstraints ?? []) : SYSTEM_DEFAULTS;

  /** The selector of the Services, ReplicaSets, StatefulSets and RCs selecting the pod (upstream's DefaultSelector). */
  function defaultSelector(pod: Pod): LabelSelector | undefined {
    const namespace = pod.metadata.namespace!;
    const labels = pod.metadata.labels ?? {};
    const requirements: LabelSelector = [];
    const addMap = (map: Record<string, string> | undefined) => {
      for (const [key, value] of Object.entries(map ?? {})) requirements.push({ key, op: 'in', values: [value] });
    };
    for (const service of listers.services?.list(namespace) ?? []) {
      const selector = service.spec?.selector as Record<string, string> | undefined;
      if (selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v)) addMap(selector);
    }
    for (const rc of listers.replicationControllers?.list(namespace) ?? []) {
      const selector = rc.spec?.selector as Record<string, string> | undefined;
      if (selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v)) addMap(selector);
    }
    for (const lister of [listers.replicaSets, listers.statefulSets]) {
      for (const owner of lister?.list(namespace) ?? []) {
        const selector = selectorFromSpec(owner.spec?.selector);
        if (selector.length > 0 && matchesLabels(selector, labels)) requirements.push(...selector);
      }
    }
    return requirements.length > 0 ? requirements : undefined;
  }

  /** Matching pods per domain of each constraint over `nodes` (per-node counts from the snapshot's index). */
  function count(pod: Pod, constraints: Constraint[], nodes: readonly NodeInfo[], requireAllKeys: boolean, snapshot: Snapshot): Array<Map<string, number>> {
    const namespaces = new Set([pod.metadata.namespace!]);
    const entries = constraints.map((c) => snapshot.matchIndex.selectorCounts(namespaces, c.selector, true, c.topologyKey));
    // Every node counts (one constraint, no node policy to apply): the index's domain counts, with the empty domains.
    if (nodes === snapshot.nodeInfoList && constraints.length === 1 && everyNodeEligible(constraints[0], pod)) {
      const key = constraints[0].topologyKey;
      const counts = new Map<string, number>();
      for (const value of snapshot.topologyValues(key)) counts.set(value, entries[0].domains.get(key)?.get(value) ?? 0);
      return [counts];
    }
    const counts = constraints.map(() => new Map<string, number>());
    for (const node of nodes) {
      if (!node.node) continue;
      if (requireAllKeys && !constraints.every((c) => node.labels[c.topologyKey] !== undefined)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        const value = node.labels[c.topologyKey];
        if (value === undefined || !eligible(c, pod, node)) continue;
        counts[i].set(value, (counts[i].get(value) ?? 0) + (entries[i].perNode.get(node.name) ?? 0));
      }
    }
    return counts;
  }

  return {
    name: NAME,
    events: ['Pod/*', 'Node/Add', 'Node/Delete', 'Node/UpdateNodeLabel', 'Node/UpdateNodeTaint'],
    preFilter(state, pod, snapshot: Snapshot) {
      const hard = ((pod.spec?.topologySpreadConstraints ?? []) as Fields[]).filter((c) => c.whenUnsatisfiable !== 'ScheduleAnyway');
      if (hard.length === 0) return status.skip();
      const constraints = constraintsOf(pod, hard);
      state.write(STATE_KEY, new SpreadState(constraints, count(pod, constraints, snapshot.nodeInfoList, true, snapshot), pod));
      return undefined;
    },
    addPod(state, pod, added, nodeInfo) {
      state.read<SpreadState>(STATE_KEY)?.update(pod, added, nodeInfo, 1);
    },
    removePod(state, pod, removed, nodeInfo) {
      state.read<SpreadState>(STATE_KEY)?.update(pod, removed, nodeInfo, -1);
    },
    filter(state, _pod, nodeInfo) {
      const s = state.read<SpreadState>(STATE_KEY);
      if (!s) return undefined;
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i];
        const value = nodeInfo.labels[c.topologyKey];
        if (value === undefined) return status.unresolvable(REASON_MISSING_LABEL);
        const skew = (s.counts[i].get(value) ?? 0) + s.selfMatches[i] - s.minMatch(i);
        if (skew > c.maxSkew) return status.unschedulable(REASON_CONSTRAINTS);
      }
      return undefined;
    },
    preScore(state, pod, nodes) {
      const declared = (pod.spec?.topologySpreadConstraints ?? []) as Fields[];
      let constraints: Constraint[];
      if (declared.length > 0) {
        const soft = declared.filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway');
        if (soft.length === 0) return status.skip();
        constraints = constraintsOf(pod, soft);
      } else {
        if (defaults.length === 0) return status.skip();
        const selector = defaultSelector(pod);
        if (!selector) return status.skip();
        constraints = constraintsOf(pod, defaults, selector);
      }
      // Counted over the feasible nodes (and, for the hostname, each node alone).
      const snapshot = snapshotOf?.() ?? standaloneSnapshot(nodes);
      const counts = count(pod, constraints, nodes, false, snapshot);
      const weights = counts.map((m) => Math.log(m.size + 2));
      const namespaces = new Set([pod.metadata.namespace!]);
      const perNode = constraints.map((c) => snapshot.matchIndex.selectorCounts(namespaces, c.selector, true).perNode);
      state.write(SCORE_KEY, { constraints, counts, weights, perNode });
      return undefined;
    },
    score(state, _pod, nodeInfo) {
      const { constraints, counts, weights, perNode } = state.read<{ constraints: Constraint[]; counts: Array<Map<string, number>>; weights: number[]; perNode: Array<Map<string, number>> }>(SCORE_KEY)!;
      let score = 0;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        const value = nodeInfo.labels[c.topologyKey];
        if (value === undefined) return -1;
        const matching = (c.topologyKey === 'kubernetes.io/hostname' ? perNode[i].get(nodeInfo.name) : counts[i].get(value)) ?? 0;
        score += matching * weights[i] + (c.maxSkew - 1);
      }
      return Math.round(score);
    },
    normalizeScore(_state, _pod, scores) {
      // −1 marks a node missing a topology key: it gets 0.
      let min = Infinity;
      let max = 0;
      for (const s of scores) {
        if (s < 0) continue;
        if (s < min) min = s;
        if (s > max) max = s;
      }
      for (let i = 0; i < scores.length; i++) {
        if (scores[i] < 0) scores[i] = 0;
        else if (max === 0) scores[i] = MAX_NODE_SCORE;
        else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i])) / max);
      }
    },
  };
}
