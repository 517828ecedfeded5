/**
 * Resource arithmetic as the scheduler counts it (upstream's framework.Resource and
 * component-helpers' PodRequests): CPU in millicores, memory and storage in bytes, extended
 * resources by name. A pod's request is its containers' sum, or the largest init-container step
 * if that is more (sidecars — restartable init containers — keep running and add to both),
 * plus the pod's overhead.
 */
import { parseQuantity } from '../registry/common/validation.js';
import type { Node, Pod } from './types.js';

export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended and hugepage resources (e.g. "nvidia.com/gpu", "hugepages-2Mi"). */
  scalar: Map<string, number>;
}

/** What a container without requests counts as when scoring (upstream's non-zero defaults). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, scalar: new Map() };
}

export function cloneResource(r: Resource): Resource {
  return { milliCPU: r.milliCPU, memory: r.memory, ephemeralStorage: r.ephemeralStorage, scalar: new Map(r.scalar) };
}

export function addResource(into: Resource, r: Resource, sign = 1): void {
  into.milliCPU += sign * r.milliCPU;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  for (const [name, value] of r.scalar) {
    const next = (into.scalar.get(name) ?? 0) + sign * value;
    if (next === 0) into.scalar.delete(name);
    else into.scalar.set(name, next);
  }
}

function maxResource(into: Resource, r: Resource): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  for (const [name, value] of r.scalar) into.scalar.set(name, Math.max(into.scalar.get(name) ?? 0, value));
}

/** Resources the scheduler tracks by name: extended and prefixed (domain/name), hugepages, attachable volumes. */
export function isScalarResource(name: string): boolean {
  return name.startsWith('hugepages-') || name.startsWith('attachable-volumes-') || (name.includes('/') && !name.startsWith('requests.'));
}

function milli(value: unknown): number {
  const quantity = parseQuantity(value);
  return Number.isFinite(quantity) ? Math.ceil(quantity * 1000 - 1e-9) : 0;
}

function whole(value: unknown): number {
  const quantity = parseQuantity(value);
  return Number.isFinite(quantity) ? Math.ceil(quantity - 1e-9) : 0;
}

/** A resource list (requests, allocatable, overhead) as a Resource; `pods` is returned apart. */
export function resourceFromList(list: Record<string, unknown> | undefined): Resource {
  const r = emptyResource();
  if (!list) return r;
  for (const [name, value] of Object.entries(list)) {
    if (name === 'cpu') r.milliCPU = milli(value);
    else if (name === 'memory') r.memory = whole(value);
    else if (name === 'ephemeral-storage') r.ephemeralStorage = whole(value);
    else if (isScalarResource(name)) r.scalar.set(name, whole(value));
  }
  return r;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Container = Record<string, any>;

/** A container's requests; a limit without a request counts as the request (as API defaulting makes it). */
function containerRequests(container: Container, nonZero: boolean): Resource {
  const requests = { ...(container.resources?.limits ?? {}), ...(container.resources?.requests ?? {}) };
  const r = resourceFromList(requests);
  if (nonZero) {
    if (requests.cpu === undefined) r.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
    if (requests.memory === undefined) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * The pod's effective request. `nonZero` substitutes the scoring defaults for containers that
 * request no CPU or memory (NodeResourcesFit's and BalancedAllocation's scoring view).
 */
export function podRequests(pod: Pod, nonZero = false): Resource {
  const spec = pod.spec ?? {};
  const total = emptyResource();
  for (const container of (spec.containers ?? []) as Container[]) addResource(total, containerRequests(container, nonZero));
  const sidecars = emptyResource();
  const initMax = emptyResource();
  for (const container of (spec.initContainers ?? []) as Container[]) {
    const requests = containerRequests(container, nonZero);
    if (container.restartPolicy === 'Always') {
      // A sidecar starts and keeps running: it adds to the pod's total and to every later init step.
      addResource(total, requests);
      addResource(sidecars, requests);
      maxResource(initMax, sidecars);
    } else {
      const step = cloneResource(requests);
      addResource(step, sidecars);
      maxResource(initMax, step);
    }
  }
  maxResource(total, initMax);
  if (spec.overhead) addResource(total, resourceFromList(spec.overhead));
  return total;
}

export interface Allocatable {
  resource: Resource;
  pods: number;
}

export function nodeAllocatable(node: Node): Allocatable {
  const list = node.status?.allocatable ?? node.status?.capacity ?? {};
  return { resource: resourceFromList(list), pods: list.pods !== undefined ? whole(list.pods) : 0 };
}
