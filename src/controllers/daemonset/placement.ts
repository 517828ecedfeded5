/**
 * Where a DaemonSet's pods belong (upstream NodeShouldRunDaemonPod): a node must pass the
 * template's nodeName, nodeSelector and required node affinity, and the pod — with the default
 * tolerations every daemon pod gets — must tolerate the node's NoSchedule and NoExecute taints.
 * A pod already there may stay while only a NoSchedule taint is untolerated. Pods are pinned to
 * their node by a required node affinity on metadata.name, leaving the binding to the scheduler.
 */
import { requiredNodeAffinityMatches } from '../../api/node-affinity.js';
import { findUntoleratedTaint, nodeTaints, sameToleration, type Toleration } from '../../api/taints.js';
import type { Obj } from '../../client/api-client.js';

/** The tolerations upstream adds to every daemon pod (AddOrUpdateDaemonPodTolerations). */
export function addDaemonPodTolerations(podSpec: Obj['spec']): void {
  const defaults: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (podSpec.hostNetwork === true) defaults.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const tolerations: Toleration[] = Array.isArray(podSpec.tolerations) ? podSpec.tolerations : [];
  for (const toleration of defaults) {
    // An equal toleration is replaced (so its tolerationSeconds go), never duplicated.
    const index = tolerations.findIndex((t) => sameToleration(t, toleration));
    if (index >= 0) tolerations[index] = toleration;
    else tolerations.push(toleration);
  }
  podSpec.tolerations = tolerations;
}

export interface NodeDecision {
  /** A daemon pod should be created here if there is none. */
  shouldRun: boolean;
  /** A daemon pod already here may keep running. */
  shouldContinueRunning: boolean;
}

export function nodeShouldRunDaemonPod(node: Obj, daemonSet: Obj): NodeDecision {
  const templateSpec = daemonSet.spec?.template?.spec ?? {};
  if (templateSpec.nodeName && templateSpec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!requiredNodeAffinityMatches(templateSpec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const spec = { ...templateSpec, tolerations: structuredClone(templateSpec.tolerations ?? []) };
  addDaemonPodTolerations(spec);
  const taints = nodeTaints(node);
  const scheduling = (t: { effect: string }) => t.effect === 'NoSchedule' || t.effect === 'NoExecute';
  if (!findUntoleratedTaint(taints, spec.tolerations, scheduling)) return { shouldRun: true, shouldContinueRunning: true };
  const evicting = findUntoleratedTaint(taints, spec.tolerations, (t) => t.effect === 'NoExecute');
  return { shouldRun: false, shouldContinueRunning: evicting === undefined };
}

/** ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become just "metadata.name In [node]". */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function pinToNode(affinity: Record<string, any> | undefined, nodeName: string): Record<string, any> {
  const terms = [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }];
  const result: Record<string, any> = structuredClone(affinity ?? {}); // eslint-disable-line @typescript-eslint/no-explicit-any
  result.nodeAffinity = { ...(result.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } };
  return result;
}

/** The node a daemon pod is for: where it is bound, else where its affinity pins it (GetTargetNodeName). */
export function targetNodeOf(pod: Obj): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms: Obj[] = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const field of (term.matchFields ?? []) as Obj[]) {
      if (field.key === 'metadata.name' && field.operator === 'In' && field.values?.length === 1) return field.values[0];
    }
  }
  return undefined;
}
