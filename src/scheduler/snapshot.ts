/**
 * The cluster as one scheduling cycle sees it (upstream's cache.Snapshot): copies of the nodes'
 * NodeInfos, refreshed from the cache before each cycle by copying only what changed. Plugins
 * read the snapshot, never the cache, so nothing moves under a cycle; preemption's what-ifs work
 * on further copies of single NodeInfos.
 */
import { PodMatchIndex } from './match-index.js';
import { FitTable, type ImageState, type NodeInfo } from './node-info.js';

export class Snapshot {
  readonly nodeInfoMap = new Map<string, NodeInfo>();
  /** Nodes that exist (have a Node object), interleaved across zones as upstream's node tree. */
  nodeInfoList: NodeInfo[] = [];
  /** The fit numbers of the NodeInfos the cache copies in, side by side. */
  readonly fitTable = new FitTable();
  private affinityLists?: { withAffinity: NodeInfo[]; withRequiredAntiAffinity: NodeInfo[] };

  /** Nodes holding pods with (anti-)affinity terms, listed when first asked for after a change. */
  get havePodsWithAffinityList(): NodeInfo[] {
    return this.listAffinity().withAffinity;
  }

  set havePodsWithAffinityList(list: NodeInfo[]) {
    this.listAffinity().withAffinity = list;
  }

  get havePodsWithRequiredAntiAffinityList(): NodeInfo[] {
    return this.listAffinity().withRequiredAntiAffinity;
  }

  set havePodsWithRequiredAntiAffinityList(list: NodeInfo[]) {
    this.listAffinity().withRequiredAntiAffinity = list;
  }

  /** Pods with affinity terms came, went or moved: the lists are rebuilt when next read. */
  affinityChanged(): void {
    this.affinityLists = undefined;
  }

  private listAffinity(): { withAffinity: NodeInfo[]; withRequiredAntiAffinity: NodeInfo[] } {
    this.affinityLists ??= {
      withAffinity: this.nodeInfoList.filter((info) => info.podsWithAffinity.length > 0),
      withRequiredAntiAffinity: this.nodeInfoList.filter((info) => info.podsWithRequiredAntiAffinity.length > 0),
    };
    return this.affinityLists;
  }
  /** PVC "namespace/name" → how many scheduled (or assumed) pods use it (VolumeRestrictions). */
  usedPVCs: ReadonlyMap<string, number> = new Map();
  /** Image name → its size and how many nodes hold it (the cache's live map, unchanged within a cycle). */
  images: ReadonlyMap<string, ImageState> = new Map();
  /** Namespace labels, for affinity terms' namespaceSelector. */
  namespaceLabels: (namespace: string) => Record<string, string> | undefined = () => undefined;

  private index?: PodMatchIndex;

  /** Matching-pod counts (the cache's live index; for a snapshot built by hand, one scanned from its nodes). */
  get matchIndex(): PodMatchIndex {
    this.index ??= new PodMatchIndex((visit) => {
      for (const info of this.nodeInfoList) for (const pod of info.pods) visit(pod, info.name, info.node ? info.labels : undefined);
    }, false);
    return this.index;
  }

  set matchIndex(index: PodMatchIndex) {
    this.index = index;
  }

  private values = new Map<string, ReadonlySet<string>>();
  private valuesFor?: NodeInfo[];

  /** The values `key` takes among the nodes (every domain of a topology key), memoized per node list and labels. */
  topologyValues(key: string): ReadonlySet<string> {
    if (this.valuesFor !== this.nodeInfoList) {
      this.values = new Map();
      this.valuesFor = this.nodeInfoList;
    }
    let values = this.values.get(key);
    if (!values) {
      const found = new Set<string>();
      for (const info of this.nodeInfoList) {
        const value = info.node ? info.labels[key] : undefined;
        if (value !== undefined) found.add(value);
      }
      this.values.set(key, (values = found));
    }
    return values;
  }

  /** Node labels changed in place (same list): the memoized topology values are stale. */
  labelsChanged(): void {
    this.values = new Map();
  }

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
