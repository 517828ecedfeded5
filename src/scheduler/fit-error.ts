/**
 * Why a pod fits nowhere (upstream's framework.FitError and Diagnosis), and the message users
 * read in FailedScheduling events and the PodScheduled condition:
 * "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint {a: b}. preemption: …"
 */
import type { Status } from './types.js';

export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

export class Diagnosis {
  readonly nodeToStatus = new Map<string, Status>();
  /** Plugins that rejected the pod somewhere: their events may bring it back. */
  readonly unschedulablePlugins = new Set<string>();
  preFilterMsg?: string;
  postFilterMsg?: string;

  record(nodeName: string, result: Status): void {
    this.nodeToStatus.set(nodeName, result);
    if (result.plugin) this.unschedulablePlugins.add(result.plugin);
  }
}

export class FitError extends Error {
  constructor(
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super();
  }

  override get message(): string {
    let text = `0/${this.numAllNodes} nodes are available:`;
    const { preFilterMsg, postFilterMsg } = this.diagnosis;
    if (preFilterMsg) text += ` ${preFilterMsg}.`;
    else {
      const histogram = reasonHistogram(this.diagnosis.nodeToStatus.values());
      if (histogram) text += ` ${histogram}.`;
    }
    if (postFilterMsg) text += ` ${postFilterMsg}.`;
    return text;
  }
}

/** "2 Insufficient cpu, 3 node(s) were unschedulable": each reason with its node count, sorted as text. */
export function reasonHistogram(statuses: Iterable<Status>): string {
  const counts = new Map<string, number>();
  for (const result of statuses) for (const reason of result.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return [...counts].map(([reason, count]) => `${count} ${reason}`).sort().join(', ');
}
