/**
 * Synthetic resource usage of pods on virtual nodes: a pure function of the pod and the time, so
 * the kubelet endpoints, metrics.k8s.io and tests all see the same numbers. A container uses a
 * steady share of what it requests (or a small default), wobbling a little each minute; the
 * `nautilus.dev/cpu-usage` / `nautilus.dev/memory-usage` annotations (quantities, per
 * container) set it outright — how a test makes an HPA see load.
 */
import { createHash } from 'node:crypto';
import type { Obj } from '../client/api-client.js';
import { parseQuantity } from '../registry/common/validation.js';

export const CPU_USAGE_ANNOTATION = 'nautilus.dev/cpu-usage';
export const MEMORY_USAGE_ANNOTATION = 'nautilus.dev/memory-usage';
/** The window metrics.k8s.io reports (as metrics-server's default resolution). */
export const USAGE_WINDOW_SECONDS = 15;

const DEFAULT_MILLICORES = 5;
const DEFAULT_MEMORY_BYTES = 16 * 2 ** 20;
/** The node's own processes (kubelet, runtime, system daemons). */
const NODE_BASE_MILLICORES = 250;
const NODE_BASE_MEMORY_BYTES = 1024 * 2 ** 20;

export interface Usage {
  /** CPU in millicores. */
  cpu: number;
  /** Memory (working set) in bytes. */
  memory: number;
}

/** 0.8 … 1.2, stable for one container within one minute. */
function wobble(seed: string, nowMs: number): number {
  const digest = createHash('sha256').update(`${seed}:${Math.floor(nowMs / 60_000)}`).digest();
  return 0.8 + (digest.readUInt16BE(0) / 0xffff) * 0.4;
}

function quantity(value: unknown): number | undefined {
  const parsed = parseQuantity(value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

export function containerUsage(pod: Obj, container: Obj, nowMs: number): Usage {
  const annotations = pod.metadata.annotations ?? {};
  const fixedCpu = quantity(annotations[CPU_USAGE_ANNOTATION]);
  const fixedMemory = quantity(annotations[MEMORY_USAGE_ANNOTATION]);
  const requests = container.resources?.requests ?? {};
  const factor = wobble(`${pod.metadata.uid}/${container.name}`, nowMs);
  const requestedCpu = quantity(requests.cpu);
  const requestedMemory = quantity(requests.memory);
  const cpu = fixedCpu !== undefined ? fixedCpu * 1000 : requestedCpu !== undefined ? requestedCpu * 1000 * 0.3 * factor : DEFAULT_MILLICORES * factor;
  const memory = fixedMemory ?? (requestedMemory !== undefined ? requestedMemory * 0.5 * factor : DEFAULT_MEMORY_BYTES * factor);
  return { cpu: Math.max(0, Math.round(cpu)), memory: Math.max(0, Math.round(memory)) };
}

/** True while the pod's containers run (only those use resources). */
export function podIsRunning(pod: Obj): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp;
}

/** Per container, for a running pod. */
export function podUsage(pod: Obj, nowMs: number): Array<{ name: string; usage: Usage }> {
  if (!podIsRunning(pod)) return [];
  return ((pod.spec?.containers ?? []) as Obj[]).map((container) => ({ name: container.name, usage: containerUsage(pod, container, nowMs) }));
}

/** A node's usage: its own processes plus its running pods. */
export function nodeUsage(pods: Iterable<Obj>, nowMs: number): Usage {
  let cpu = NODE_BASE_MILLICORES;
  let memory = NODE_BASE_MEMORY_BYTES;
  for (const pod of pods) {
    for (const { usage } of podUsage(pod, nowMs)) {
      cpu += usage.cpu;
      memory += usage.memory;
    }
  }
  return { cpu, memory };
}

/** Quantities as metrics-server writes them: nanocores ("12345678n") and kibibytes ("1024Ki"). */
export function cpuQuantity(millicores: number): string {
  return `${Math.round(millicores * 1_000_000)}n`;
}

export function memoryQuantity(bytes: number): string {
  return `${Math.round(bytes / 1024)}Ki`;
}
