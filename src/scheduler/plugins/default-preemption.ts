/**
 * DefaultPreemption (PostFilter), as upstream's framework/preemption: when no node fits, find
 * nodes where removing lower-priority pods would make room, choose victims so that as few as
 * possible are evicted — the most important pods are reprieved first, PodDisruptionBudget-
 * protected ones before the others — pick the best node (fewest PDB violations, then the lowest
 * highest victim priority, the smallest priority sum, the fewest victims, the latest start), delete
 * the victims with a `Preempted` event, and nominate the node for the preemptor
 * (status.nominatedNodeName) so nothing else takes the room meanwhile.
 */
import { matchesLabels, selectorFromSpec } from '../../api/selectors.js';
import type { ApiClient, Obj } from '../../client/api-client.js';
import type { EventRecorder } from '../../client/event-recorder.js';
import type { Lister } from '../../client/informer.js';
import { PODS } from '../../client/resource-types.js';
import { nowRfc3339 } from '../../api/object.js';
import { ApiError } from '../../api/status.js';
import { log } from '../../server/log.js';
import { reasonHistogram } from '../fit-error.js';
import type { SchedulerMetrics } from '../metrics.js';
import type { NodeInfo, PodInfo } from '../node-info.js';
import { podPriority, status, type CycleState, type Handle, type Plugin, type Pod, type Status } from '../types.js';

export const NAME = 'DefaultPreemption';
export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS = 'No preemption victims found for incoming pod';

export interface DefaultPreemptionArgs {
  minCandidateNodesPercentage?: number;
  minCandidateNodesAbsolute?: number;
}

export interface PreemptionDeps {
  client: ApiClient;
  recorder: EventRecorder;
  handle: Handle;
  pods: Lister;
  podDisruptionBudgets: Lister;
  schedulerName: string;
  metrics?: SchedulerMetrics;
}

export interface Candidate {
  nodeName: string;
  victims: PodInfo[];
  numPDBViolations: number;
}

/** Upstream's MoreImportantPod: higher priority, then the earlier start. */
function moreImportant(a: Pod, b: Pod): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return startTime(a) < startTime(b);
}

function startTime(pod: Pod): number {
  const time = pod.status?.startTime ?? pod.metadata.creationTimestamp;
  return time ? Date.parse(time) : Number.MAX_SAFE_INTEGER;
}

interface BudgetState {
  namespace: string;
  selector: ReturnType<typeof selectorFromSpec>;
  allowed: number;
  disrupted: Set<string>;
}

function budgetsOf(pdbs: Obj[]): BudgetState[] {
  return pdbs
    .filter((pdb) => pdb.spec?.selector && (Object.keys(pdb.spec.selector.matchLabels ?? {}).length > 0 || (pdb.spec.selector.matchExpressions ?? []).length > 0))
    .map((pdb) => ({ namespace: pdb.metadata.namespace!, selector: selectorFromSpec(pdb.spec.selector), allowed: pdb.status?.disruptionsAllowed ?? 0, disrupted: new Set(Object.keys(pdb.status?.disruptedPods ?? {})) }));
}

/** Splits victims into those whose eviction would violate a PDB and the rest (upstream's filterPodsWithPDBViolation). */
function splitByBudget(victims: PodInfo[], budgets: BudgetState[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = budgets.map((b) => b.allowed);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const victim of victims) {
    const pod = victim.pod;
    let violates = false;
    budgets.forEach((budget, i) => {
      if (budget.namespace !== pod.metadata.namespace || !matchesLabels(budget.selector, pod.metadata.labels)) return;
      // Already counted as disrupted: evicting it again changes nothing.
      if (budget.disrupted.has(pod.metadata.name!)) return;
      allowed[i]--;
      if (allowed[i] < 0) violates = true;
    });
    (violates ? violating : nonViolating).push(victim);
  }
  return { violating, nonViolating };
}

export function defaultPreemption(args: DefaultPreemptionArgs, deps: PreemptionDeps): Plugin {
  const minPercentage = args.minCandidateNodesPercentage ?? 10;
  const minAbsolute = args.minCandidateNodesAbsolute ?? 100;

  /** Which pods must go from `nodeInfo` for `pod` to fit (upstream's SelectVictimsOnNode). */
  function selectVictimsOnNode(state: CycleState, pod: Pod, nodeInfo: NodeInfo, budgets: BudgetState[]): { candidate?: Candidate; status?: Status } {
    const node = nodeInfo.clone();
    const priority = podPriority(pod);
    const potential = node.pods.filter((p) => podPriority(p.pod) < priority);
    if (potential.length === 0) return { status: status.unresolvable(NO_VICTIMS) };
    for (const victim of potential) {
      node.removePod(victim.key);
      deps.handle.runPreFilterExtensionRemovePod(state, pod, victim, node);
    }
    const fits = deps.handle.runFilters(state, pod, node);
    if (fits) return { status: fits };
    potential.sort((a, b) => (moreImportant(a.pod, b.pod) ? -1 : moreImportant(b.pod, a.pod) ? 1 : 0));
    const { violating, nonViolating } = splitByBudget(potential, budgets);
    const victims: PodInfo[] = [];
    let numPDBViolations = 0;
    const reprieve = (info: PodInfo): boolean => {
      node.addPod(info);
      deps.handle.runPreFilterExtensionAddPod(state, pod, info, node);
      if (!deps.handle.runFilters(state, pod, node)) return true;
      node.removePod(info.key);
      deps.handle.runPreFilterExtensionRemovePod(state, pod, info, node);
      victims.push(info);
      return false;
    };
    for (const info of violating) if (!reprieve(info)) numPDBViolations++;
    for (const info of nonViolating) reprieve(info);
    return { candidate: { nodeName: nodeInfo.name, victims, numPDBViolations } };
  }

  async function evict(pod: Pod, candidate: Candidate): Promise<void> {
    for (const { pod: victim } of candidate.victims) {
      if (victim.metadata.deletionTimestamp) continue;
      try {
        await deps.client.mutate(PODS, victim.metadata.namespace, victim.metadata.name!, (latest) => {
          latest.status ??= {};
          const others = ((latest.status.conditions ?? []) as Obj[]).filter((c) => c.type !== 'DisruptionTarget');
          latest.status.conditions = [...others, { type: 'DisruptionTarget', status: 'True', lastProbeTime: null, lastTransitionTime: nowRfc3339(), reason: 'PreemptionByScheduler', message: `${deps.schedulerName}: preempting to accommodate a higher priority pod` }];
          return latest;
        }, { subresource: 'status' });
        await deps.client.delete(PODS, victim.metadata.namespace, victim.metadata.name!, { preconditions: { uid: victim.metadata.uid } });
      } catch (error) {
        if (error instanceof ApiError && (error.code === 404 || error.code === 409)) continue;
        throw error;
      }
      deps.recorder.event(victim, 'Normal', 'Preempted', `Preempted by pod ${pod.metadata.uid} on node ${candidate.nodeName}`);
    }
    deps.metrics?.preemptionVictims.observe(candidate.victims.length);
  }

  return {
    name: NAME,
    events: [],
    async postFilter(state, pod, filtered) {
      deps.metrics?.preemptionAttempts.inc();
      if (pod.spec?.preemptionPolicy === 'Never') return { status: status.unschedulable('preemption: not eligible due to preemptionPolicy=Never.') };
      const nominated = pod.status?.nominatedNodeName as string | undefined;
      if (nominated && filtered.get(nominated)?.code !== 'UnschedulableAndUnresolvable') {
        // Victims of an earlier preemption are still terminating there: wait rather than preempt again.
        const info = deps.handle.snapshot().get(nominated);
        if (info?.pods.some((p) => p.pod.metadata.deletionTimestamp && podPriority(p.pod) < podPriority(pod))) {
          return { status: status.unschedulable('preemption: not eligible due to a terminating pod on the nominated node.') };
        }
      }
      const snapshot = deps.handle.snapshot();
      const all = snapshot.nodeInfoList;
      const potential = all.filter((info) => filtered.get(info.name)?.code === 'Unschedulable');
      const statuses = new Map<string, Status>();
      // Nodes without a dry-run verdict count as "not helpful", as upstream's absent-node status.
      const message = () => {
        const notHelpful: Status[] = Array.from({ length: all.length - statuses.size }, () => status.unresolvable(NOT_HELPFUL));
        return `preemption: 0/${all.length} nodes are available: ${reasonHistogram([...statuses.values(), ...notHelpful])}.`;
      };
      if (potential.length === 0) return { result: { nominatedNodeName: '' }, status: status.unschedulable(message()) };
      const budgets = budgetsOf(deps.podDisruptionBudgets.list());
      let wanted = Math.trunc((potential.length * minPercentage) / 100);
      if (wanted < minAbsolute) wanted = minAbsolute;
      if (wanted > potential.length) wanted = potential.length;
      const offset = Math.floor(Math.random() * potential.length);
      const candidates: Candidate[] = [];
      for (let i = 0; i < potential.length && candidates.length < wanted; i++) {
        const info = potential[(offset + i) % potential.length];
        const { candidate, status: failure } = selectVictimsOnNode(state.clone(), pod, info, budgets);
        if (candidate) candidates.push(candidate);
        else if (failure) statuses.set(info.name, failure);
      }
      if (candidates.length === 0) return { result: { nominatedNodeName: '' }, status: status.unschedulable(message()) };
      const best = pickOneNodeForPreemption(candidates);
      try {
        await evict(pod, best);
      } catch (error) {
        log.warn('preemption failed', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, error: String(error) });
        return { status: status.error(String(error)) };
      }
      return { result: { nominatedNodeName: best.nodeName }, status: undefined };
    },
  };
}

/** Upstream's pickOneNodeForPreemption: each criterion narrows the candidates until one is left. */
export function pickOneNodeForPreemption(candidates: Candidate[]): Candidate {
  const highest = (c: Candidate) => (c.victims.length ? Math.max(...c.victims.map((v) => podPriority(v.pod))) : Number.MIN_SAFE_INTEGER);
  const sum = (c: Candidate) => c.victims.reduce((total, v) => total + podPriority(v.pod) + 2 ** 31, 0);
  // The earliest start among the highest-priority victims: later is better (fresh pods lose less work).
  const earliestStartOfHighest = (c: Candidate) => {
    const top = highest(c);
    return Math.min(...c.victims.filter((v) => podPriority(v.pod) === top).map((v) => startTime(v.pod)));
  };
  const criteria: Array<(c: Candidate) => number> = [(c) => -c.numPDBViolations, (c) => -highest(c), (c) => -sum(c), (c) => -c.victims.length, earliestStartOfHighest];
  let remaining = candidates;
  for (const score of criteria) {
    if (remaining.length === 1) break;
    const best = Math.max(...remaining.map(score));
    remaining = remaining.filter((c) => score(c) === best);
  }
  return remaining[0];
}
