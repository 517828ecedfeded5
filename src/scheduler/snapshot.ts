/**
 * The cluster as one scheduling cycle sees it (upstream's cache.Snapshot): copies of the nodes'
 * NodeInfos, refreshed from the cache before each cycle by copying only what changed. Plugins
 * read the snapshot, never the cache, so nothing moves under a cycle; preemption's what-ifs work
 * on further copies of single NodeInfos.
 */
import type { NodeInfo } from './node-info.js';

export class Snapshot {
  readonly nodeInfoMap = new Map<string, NodeInfo>();
  /** Nodes that exist (have a Node object), interleaved across zones as upstream's node tree. */
  nodeInfoList: NodeInfo[] = [];
  havePodsWithAffinityList: NodeInfo[] = [];
  havePodsWithRequiredAntiAffinityList: NodeInfo[] = [];
  /** PVC "namespace/name" → how many scheduled (or assumed) pods use it (VolumeRestrictions). */
  usedPVCs: ReadonlyMap<string, number> = new Map();
  /** Namespace labels, for affinity terms' namespaceSelector. */
  namespaceLabels: (namespace: string) => Record<string, string> | undefined = () => undefined;

  get(name: string): NodeInfo | undefined {
    return this.nodeInfoMap.get(name);
  }

  get numNodes(): number {
    return this.nodeInfoList.length;
  }
}

const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];
const REGION_LABELS = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region'];

/** "region:\0:zone" as upstream's node tree keys nodes. */
export function zoneKeyOf(labels: Record<string, string> | undefined): string {
  const pick = (keys: string[]) => keys.map((k) => labels?.[k]).find((v) => v !== undefined) ?? '';
  return `${pick(REGION_LABELS)}:\u0000:${pick(ZONE_LABELS)}`;
}

/** Nodes ordered one per zone in turn, so a partial search (percentageOfNodesToScore) sees every zone. */
export function interleaveByZone(nodes: NodeInfo[]): NodeInfo[] {
  const zones = new Map<string, NodeInfo[]>();
  for (const info of nodes) {
    const key = zoneKeyOf(info.node?.metadata?.labels);
    let list = zones.get(key);
    if (!list) zones.set(key, (list = []));
    list.push(info);
  }
  if (zones.size <= 1) return nodes;
  const lists = [...zones.values()];
  const result: NodeInfo[] = [];
  for (let i = 0; result.length < nodes.length; i++) for (const list of lists) if (i < list.length) result.push(list[i]);
  return result;
}
