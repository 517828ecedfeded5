/**
 * Topology aware hints for EndpointSlices (upstream's k8s.io/endpointslice/topologycache): for a
 * Service annotated `service.kubernetes.io/topology-mode: Auto` (or the older
 * `service.kubernetes.io/topology-aware-hints: auto`), each ready endpoint gets `hints.forZones`
 * so that every zone receives a share of the endpoints proportional to its nodes' allocatable
 * CPU. Endpoints are hinted for their own zone first, then zones with more than their share give
 * endpoints to zones with less. It is only done when safe: at least two zones with ready nodes,
 * every counted node with a zone and allocatable CPU, at least one endpoint per zone, every endpoint
 * with a zone, and each zone's minimum (its share less the 20 % overload threshold) reachable.
 * Otherwise hints are removed, with upstream's TopologyAwareHintsDisabled events.
 */
import { parse as parseQuantity } from '../admission/quantity.js';
import type { Obj } from '../client/api-client.js';
import { applyTrafficDistribution } from './traffic-distribution.js';

export const TOPOLOGY_MODE_ANNOTATION = 'service.kubernetes.io/topology-mode';
export const TOPOLOGY_AWARE_HINTS_ANNOTATION = 'service.kubernetes.io/topology-aware-hints';
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const EXCLUDED_LABELS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'];
const OVERLOAD_THRESHOLD = 0.2;

export const HINT_MESSAGES = {
  noZoneSpecified: 'One or more endpoints do not have a zone specified',
  noAllocatedHintsForZones: 'No hints allocated for zones',
  enabled: 'Topology Aware Hints has been enabled',
  disabled: 'Topology Aware Hints has been disabled',
  insufficientNodeInfo: 'Insufficient Node information: allocatable CPU or zone not specified on one or more nodes',
  nodesReadyInOneZoneOnly: 'Nodes only ready in one zone',
  insufficientNumberOfEndpoints: 'Insufficient number of endpoints',
  minAllocationExceedsOverloadThreshold: 'Unable to allocate minimum required endpoints to each zone without exceeding overload threshold',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

export interface HintEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

interface Allocation {
  minimum: number;
  maximum: number;
  desired: number;
}

/** The older annotation wins when both are set, as upstream's hintsEnabled. */
export function hintsEnabled(annotations: Record<string, string> | undefined): boolean {
  const value = annotations?.[TOPOLOGY_AWARE_HINTS_ANNOTATION] ?? annotations?.[TOPOLOGY_MODE_ANNOTATION];
  return value === 'Auto' || value === 'auto';
}

const isReadyNode = (node: Obj) => (node.status?.conditions as Fields[] | undefined)?.find((c) => c?.type === 'Ready')?.status === 'True';

/** What of a node the zone ratios depend on (a change of it changes them). */
export function nodeTopologyFacts(node: Obj): string {
  const labels = node.metadata.labels ?? {};
  return JSON.stringify([EXCLUDED_LABELS.some((l) => l in labels), isReadyNode(node), labels[ZONE_LABEL] ?? '', node.status?.allocatable?.cpu ?? '']);
}

/** Each zone's share of the ready, non-control-plane nodes' allocatable CPU; undefined when not usable. */
export function cpuRatiosByZone(nodes: readonly Obj[]): Map<string, number> | undefined {
  const milliByZone = new Map<string, bigint>();
  let total = 0n;
  for (const node of nodes) {
    const labels = node.metadata.labels ?? {};
    if (EXCLUDED_LABELS.some((label) => label in labels) || !isReadyNode(node)) continue;
    const zone = labels[ZONE_LABEL];
    const cpu = parseQuantity(node.status?.allocatable?.cpu);
    const milli = cpu ? cpu.nanos / 1_000_000n : 0n;
    // One node without a zone or CPU makes the whole picture unreliable (as upstream).
    if (!zone || milli <= 0n) return undefined;
    milliByZone.set(zone, (milliByZone.get(zone) ?? 0n) + milli);
    total += milli;
  }
  if (total === 0n || milliByZone.size < 2) return undefined;
  return new Map([...milliByZone].sort(([a], [b]) => (a < b ? -1 : 1)).map(([zone, milli]) => [zone, Number(milli) / Number(total)]));
}

function allocationsFor(ratios: Map<string, number> | undefined, endpoints: number): { allocations?: Map<string, Allocation>; problem?: string } {
  if (!ratios) return { problem: HINT_MESSAGES.insufficientNodeInfo };
  if (ratios.size < 2) return { problem: HINT_MESSAGES.nodesReadyInOneZoneOnly };
  if (ratios.size > endpoints) return { problem: `${HINT_MESSAGES.insufficientNumberOfEndpoints} (${endpoints} endpoints, ${ratios.size} zones)` };
  const allocations = new Map<string, Allocation>();
  let minTotal = 0;
  for (const [zone, ratio] of ratios) {
    const desired = ratio * endpoints;
    const minimum = Math.ceil(desired * (1 / (1 + OVERLOAD_THRESHOLD)));
    allocations.set(zone, { minimum, maximum: 0, desired: Math.max(desired, minimum) });
    minTotal += minimum;
    if (minTotal > endpoints) return { problem: `${HINT_MESSAGES.minAllocationExceedsOverloadThreshold} (${endpoints} endpoints, ${ratios.size} zones)` };
  }
  for (const allocation of allocations.values()) allocation.maximum = allocation.minimum + endpoints - minTotal;
  return { allocations };
}

export const isReady = (endpoint: Fields) => endpoint?.conditions?.ready === true;

export function withoutHints(endpoint: Fields): Fields {
  if (endpoint.hints === undefined) return endpoint;
  const { hints: _hints, ...rest } = endpoint;
  return rest;
}

export function hinted(endpoint: Fields, zone: string): Fields {
  return { ...endpoint, hints: { forZones: [{ name: zone }] } };
}

/** An unchanged slice's hints by zone, or undefined when they are no longer valid (upstream's getHintsByZone). */
function hintsByZone(endpoints: readonly Fields[], allocated: Map<string, number>, allocations: Map<string, Allocation>): Map<string, number> | undefined {
  const counts = new Map<string, number>();
  for (const endpoint of endpoints) {
    if (!isReady(endpoint)) continue;
    const zones: Fields[] = endpoint.hints?.forZones ?? [];
    if (zones.length === 0) return undefined;
    for (const { name } of zones) {
      if (!allocations.has(name)) return undefined;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  for (const [zone, count] of counts) if (count + (allocated.get(zone) ?? 0) > allocations.get(zone)!.maximum) return undefined;
  return counts;
}

/** The largest entry (first in order on ties). */
function most(values: Map<string, number>): [string, number] {
  let best: [string, number] = ['', 0];
  for (const entry of values) if (entry[1] > best[1]) best = entry;
  return best;
}

/** Whole endpoints zones give and receive, from the fractional surplus and deficit (upstream's getGivingAndReceivingZones). */
function givingAndReceiving(allocations: Map<string, Allocation>, allocated: Map<string, number>): { giving: Map<string, number>; receiving: Map<string, number> } {
  const surplus = new Map<string, number>();
  const deficit = new Map<string, number>();
  for (const [zone, allocation] of allocations) {
    const have = allocated.get(zone) ?? 0;
    if (have > allocation.desired) surplus.set(zone, have - allocation.desired);
    else if (have < allocation.desired) deficit.set(zone, allocation.desired - have);
  }
  const giving = new Map<string, number>();
  const receiving = new Map<string, number>();
  for (;;) {
    const [from, toGive] = most(surplus);
    const [to, toReceive] = most(deficit);
    if (!from || !to || (toGive < 1 && toReceive < 1) || toGive < 0.5 || toReceive < 0.5) break;
    giving.set(from, (giving.get(from) ?? 0) + 1);
    surplus.set(from, toGive - 1);
    receiving.set(to, (receiving.get(to) ?? 0) + 1);
    deficit.set(to, toReceive - 1);
  }
  return { giving, receiving };
}

/** The endpoint lists of one Service and address type about to be written, and those left as they are. */
export interface HintTarget {
  serviceKey: string;
  addressType: string;
  /** Endpoint lists of slices being created or updated: elements may be replaced. */
  written: Fields[][];
  /** Endpoint lists of slices not being written. */
  unchanged: ReadonlyArray<readonly Fields[]>;
  /** Moves unchanged[index] to the written ones; returns its (new) list to fill. */
  rewrite(index: number): Fields[];
}

export class TopologyHints {
  private ratios: Map<string, number> | undefined;
  private stale = true;
  /** Services whose slices carry hints (upstream's hintsPopulatedByService). */
  private readonly populated = new Set<string>();

  constructor(private readonly nodes: () => readonly Obj[]) {}

  /** The nodes changed in a way that matters: recompute the zone ratios on next use. */
  invalidate(): void {
    this.stale = true;
  }

  /**
   * Adds or removes hints on `target` as the Service's annotations say, or, when they do not ask
   * for topology aware hints, as its `spec.trafficDistribution` says; returns the events to record.
   */
  apply(target: HintTarget, enabled: boolean, trafficDistribution?: unknown): HintEvent[] {
    const withType = (message: string) => `${message}, addressType: ${target.addressType}`;
    if (!enabled) {
      const events: HintEvent[] = this.populated.has(target.serviceKey) ? [{ type: 'Warning', reason: 'TopologyAwareHintsDisabled', message: withType(HINT_MESSAGES.disabled) }] : [];
      this.populated.delete(target.serviceKey);
      applyTrafficDistribution(target, trafficDistribution);
      return events;
    }
    const disable = (message: string): HintEvent[] => {
      this.populated.delete(target.serviceKey);
      removeHints(target);
      return [{ type: 'Warning', reason: 'TopologyAwareHintsDisabled', message: withType(message) }];
    };
    if (this.stale) {
      this.ratios = cpuRatiosByZone(this.nodes());
      this.stale = false;
    }
    const total = [...target.written, ...target.unchanged].reduce((sum, list) => sum + list.filter(isReady).length, 0);
    const { allocations, problem } = allocationsFor(this.ratios, total);
    if (!allocations) return disable(problem!);
    const allocated = new Map<string, number>();
    // Unchanged slices keep valid hints; invalid ones are rewritten.
    const rewrites: number[] = [];
    target.unchanged.forEach((endpoints, index) => {
      const counts = hintsByZone(endpoints, allocated, allocations);
      if (!counts) rewrites.push(index);
      else for (const [zone, count] of counts) allocated.set(zone, (allocated.get(zone) ?? 0) + count);
    });
    for (const index of rewrites) {
      const list = target.rewrite(index);
      list.splice(0, list.length, ...target.unchanged[index]);
    }
    // Step 1: every ready endpoint hinted for its own zone.
    for (const list of target.written) {
      for (let i = 0; i < list.length; i++) {
        const endpoint = list[i];
        if (!isReady(endpoint)) {
          list[i] = withoutHints(endpoint);
          continue;
        }
        if (!endpoint.zone) return disable(HINT_MESSAGES.noZoneSpecified);
        allocated.set(endpoint.zone, (allocated.get(endpoint.zone) ?? 0) + 1);
        list[i] = hinted(endpoint, endpoint.zone);
      }
    }
    // Steps 2 and 3: zones over their share give endpoints to zones under it.
    const { giving, receiving } = givingAndReceiving(allocations, allocated);
    for (const list of target.written) {
      for (let i = 0; i < list.length && giving.size > 0 && receiving.size > 0; i++) {
        const endpoint = list[i];
        if (!isReady(endpoint)) continue;
        const from = endpoint.zone as string;
        const toGive = giving.get(from);
        if (!toGive) continue;
        const [to, toReceive] = [...receiving].find(([, n]) => n > 0) ?? ['', 0];
        if (!to) break;
        list[i] = hinted(endpoint, to);
        if (toGive === 1) giving.delete(from);
        else giving.set(from, toGive - 1);
        if (toReceive === 1) receiving.delete(to);
        else receiving.set(to, toReceive - 1);
        allocated.set(to, (allocated.get(to) ?? 0) + 1);
        allocated.set(from, (allocated.get(from) ?? 0) - 1);
      }
    }
    if (allocated.size === 0) return disable(HINT_MESSAGES.noAllocatedHintsForZones);
    if (this.populated.has(target.serviceKey)) return [];
    this.populated.add(target.serviceKey);
    return [{ type: 'Normal', reason: 'TopologyAwareHintsEnabled', message: withType(HINT_MESSAGES.enabled) }];
  }

  /** Services whose slices carry hints now. */
  hinted(): ReadonlySet<string> {
    return this.populated;
  }

  forget(serviceKey: string): void {
    this.populated.delete(serviceKey);
  }
}

/** Upstream's RemoveHintsFromSlices: none on what is written, and unchanged slices with hints rewritten without. */
export function removeHints(target: HintTarget): void {
  for (const list of target.written) for (let i = 0; i < list.length; i++) list[i] = withoutHints(list[i]);
  target.unchanged.forEach((endpoints, index) => {
    if (!endpoints.some((e) => e.hints !== undefined)) return;
    const list = target.rewrite(index);
    list.splice(0, list.length, ...endpoints.map(withoutHints));
  });
}

