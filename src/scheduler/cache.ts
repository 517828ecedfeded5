/**
 * The scheduler's cache (upstream's internal/cache): a NodeInfo per node kept incrementally from
 * node and pod events, plus pods *assumed* on a node between the end of their scheduling cycle
 * and the moment the informer shows them bound — so the next cycle already counts them. A bind
 * that fails forgets the assumed pod. `updateSnapshot` copies into the cycle's snapshot only the
 * NodeInfos that changed since the previous one; no decision ever scans every pod.
 */
import { NodeInfo, podInfoOf, type ImageState, type PodInfo } from './node-info.js';
import { PodMatchIndex } from './match-index.js';
import { interleaveByZone, zoneKeyOf, type Snapshot } from './snapshot.js';
import type { Node, Pod } from './types.js';

interface PodState {
  info: PodInfo;
  nodeName: string;
  assumed: boolean;
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  private readonly images = new Map<string, ImageState>();
  /** Nodes changed since the last snapshot. */
  private readonly dirty = new Set<string>();
  /** A node came, went or changed zone: the snapshot's ordered list is rebuilt. */
  private nodeSetChanged = false;
  /** PVC "namespace/name" → pods (bound or assumed) using it, anywhere. */
  private readonly pvcUses = new Map<string, number>();
  private pvcUsesChanged = false;
  /** Matching-pod counts per selector and domain, fed with every change (plugins read it through the snapshot). */
  readonly index = new PodMatchIndex((visit) => {
    for (const state of this.pods.values()) {
      const node = this.nodes.get(state.nodeName);
      visit(state.info, state.nodeName, node?.node ? node.labels : undefined);
    }
  }, true);

  get nodeCount(): number {
    let count = 0;
    for (const info of this.nodes.values()) if (info.node) count++;
    return count;
  }

  get podCount(): number {
    return this.pods.size;
  }

  addNode(node: Node): void {
    const info = this.nodeInfo(node.metadata.name!);
    const zoneBefore = info.node ? zoneKeyOf(info.node.metadata.labels) : undefined;
    const labelsBefore = info.node ? info.labels : undefined;
    if (info.node) this.removeImages(info);
    info.setNode(node);
    if (!sameLabels(labelsBefore, info.labels)) this.index.nodeRelabelled(info.pods, info.name, labelsBefore, info.labels);
    this.addImages(info);
    if (zoneBefore !== zoneKeyOf(node.metadata.labels)) this.nodeSetChanged = true;
    this.dirty.add(info.name);
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  removeNode(node: Node): void {
    const info = this.nodes.get(node.metadata.name!);
    if (!info) return;
    this.removeImages(info);
    if (info.node) this.index.nodeRelabelled(info.pods, info.name, info.labels, undefined);
    // Pods still bound to it keep the NodeInfo until they go, as upstream's cache does.
    if (info.pods.length === 0) this.nodes.delete(info.name);
    else {
      info.node = undefined;
      info.generation++;
    }
    this.nodeSetChanged = true;
    this.dirty.add(info.name);
  }

  /** A bound pod seen by the informer: confirms an assumed pod, or adds it. */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const existing = this.pods.get(key);
    if (existing) this.removeState(key, existing);
    this.addState(key, pod, pod.spec.nodeName, false);
  }

  updatePod(pod: Pod): void {
    this.addPod(pod);
  }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    const existing = this.pods.get(key);
    if (existing) this.removeState(key, existing);
  }

  /** Counts `pod` on `nodeName` until the informer confirms the binding (or `forgetPod`). */
  assumePod(pod: Pod, nodeName: string): void {
    const key = podKey(pod);
    const existing = this.pods.get(key);
    if (existing) this.removeState(key, existing);
    this.addState(key, pod, nodeName, true);
  }

  /** The bind failed: the assumed pod no longer counts. */
  forgetPod(pod: Pod): void {
    const key = podKey(pod);
    const existing = this.pods.get(key);
    if (existing?.assumed) this.removeState(key, existing);
  }

  isAssumed(pod: Pod): boolean {
    return this.pods.get(podKey(pod))?.assumed ?? false;
  }

  /** Where the cache has this pod (assumed or bound), if anywhere. */
  nodeOf(pod: Pod): string | undefined {
    return this.pods.get(podKey(pod))?.nodeName;
  }

  /** Brings `snapshot` (the cache serves one) up to date, copying only the NodeInfos changed since the last call. */
  updateSnapshot(snapshot: Snapshot): void {
    if (this.pvcUsesChanged) {
      snapshot.usedPVCs = new Map(this.pvcUses);
      this.pvcUsesChanged = false;
    }
    snapshot.matchIndex = this.index;
    snapshot.images = this.images;
    if (this.dirty.size === 0 && !this.nodeSetChanged) return;
    let affinityChanged = false;
    for (const name of this.dirty) {
      const before = snapshot.nodeInfoMap.get(name);
      const info = this.nodes.get(name);
      if (before && (before.podsWithAffinity.length > 0 || before.podsWithRequiredAntiAffinity.length > 0)) affinityChanged = true;
      if (!info) {
        snapshot.nodeInfoMap.delete(name);
        snapshot.fitTable.release(name);
        continue;
      }
      if (before && before.labels !== info.labels) snapshot.labelsChanged();
      if (info.podsWithAffinity.length > 0 || info.podsWithRequiredAntiAffinity.length > 0) affinityChanged = true;
      // A node's snapshot copy is updated in place: the copies stay where they were allocated,
      // so the per-cycle walk over them reads memory laid out once rather than scattered.
      if (before) info.copyTo(before);
      else snapshot.nodeInfoMap.set(name, info.clone(snapshot.fitTable));
    }
    this.dirty.clear();
    if (this.nodeSetChanged) {
      const existing = [...this.nodes.values()].filter((info) => info.node).map((info) => info.name);
      existing.sort();
      snapshot.nodeInfoList = interleaveByZone(existing.map((name) => snapshot.nodeInfoMap.get(name)!));
      this.nodeSetChanged = false;
      affinityChanged = true;
    }
    if (affinityChanged) snapshot.affinityChanged();
  }

  private nodeInfo(name: string): NodeInfo {
    let info = this.nodes.get(name);
    if (!info) this.nodes.set(name, (info = new NodeInfo(name)));
    return info;
  }

  private addState(key: string, pod: Pod, nodeName: string, assumed: boolean): void {
    const info = podInfoOf(pod);
    const node = this.nodeInfo(nodeName);
    node.addPod(info);
    this.pods.set(key, { info, nodeName, assumed });
    this.countClaims(info, 1);
    this.index.podChanged(info, nodeName, node.node ? node.labels : undefined, 1);
    this.dirty.add(nodeName);
  }

  private removeState(key: string, state: PodState): void {
    this.pods.delete(key);
    this.countClaims(state.info, -1);
    const node = this.nodes.get(state.nodeName);
    if (!node) return;
    this.index.podChanged(state.info, state.nodeName, node.node ? node.labels : undefined, -1);
    node.removePod(key);
    if (!node.node && node.pods.length === 0) this.nodes.delete(state.nodeName);
    this.dirty.add(state.nodeName);
  }

  private countClaims(info: PodInfo, sign: 1 | -1): void {
    for (const claim of info.claims) {
      const key = `${info.pod.metadata.namespace}/${claim}`;
      const count = (this.pvcUses.get(key) ?? 0) + sign;
      if (count <= 0) this.pvcUses.delete(key);
      else this.pvcUses.set(key, count);
      this.pvcUsesChanged = true;
    }
  }

  private addImages(info: NodeInfo): void {
    const states = new Map<string, ImageState>();
    for (const image of (info.node?.status?.images ?? []) as Array<{ names?: string[]; sizeBytes?: number }>) {
      for (const name of image.names ?? []) {
        let state = this.images.get(name);
        if (!state) this.images.set(name, (state = { size: image.sizeBytes ?? 0, numNodes: 0 }));
        state.numNodes++;
        states.set(name, state);
      }
    }
    info.imageStates = states;
  }

  private removeImages(info: NodeInfo): void {
    for (const [name, state] of info.imageStates) {
      state.numNodes--;
      if (state.numNodes <= 0) this.images.delete(name);
    }
    info.imageStates = new Map();
  }
}

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function podKey(pod: Pod): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}
