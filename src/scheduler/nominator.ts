/**
 * Pods nominated to a node by preemption (status.nominatedNodeName), by node: while their victims
 * terminate, other pods of lower priority must not take the room freed for them.
 */
import { podKey, type Pod } from './types.js';

export class Nominator {
  private readonly byNode = new Map<string, Map<string, Pod>>();
  private readonly nodeOf = new Map<string, string>();

  /** Records the pod's nomination (its status, or `nodeName` when given); none removes it. */
  set(pod: Pod, nodeName = pod.status?.nominatedNodeName as string | undefined): void {
    const key = podKey(pod);
    this.delete(pod);
    if (!nodeName || pod.spec?.nodeName) return;
    let pods = this.byNode.get(nodeName);
    if (!pods) this.byNode.set(nodeName, (pods = new Map()));
    pods.set(key, pod);
    this.nodeOf.set(key, nodeName);
  }

  delete(pod: Pod): void {
    const key = podKey(pod);
    const node = this.nodeOf.get(key);
    if (node === undefined) return;
    this.nodeOf.delete(key);
    const pods = this.byNode.get(node);
    pods?.delete(key);
    if (pods?.size === 0) this.byNode.delete(node);
  }

  podsOn(nodeName: string): Pod[] {
    const pods = this.byNode.get(nodeName);
    return pods ? [...pods.values()] : [];
  }

  get isEmpty(): boolean {
    return this.byNode.size === 0;
  }
}
