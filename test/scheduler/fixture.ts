/** Pods and nodes as plain objects for plugin and queue tests (the scheduler reads nothing else). */
import { NodeInfo, podInfoOf } from '../../src/scheduler/node-info.js';
import type { Pod, Node } from '../../src/scheduler/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let uid = 0;

export function pod(name: string, spec: Json = {}, meta: Json = {}): Pod {
  const { cpu, memory, ...rest } = spec;
  const requests: Json = {};
  if (cpu !== undefined) requests.cpu = cpu;
  if (memory !== undefined) requests.memory = memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${++uid}`, creationTimestamp: '2026-01-01T00:00:00Z', ...meta },
    spec: { containers: rest.containers ?? [{ name: 'app', image: 'nginx', resources: { requests } }], ...Object.fromEntries(Object.entries(rest).filter(([k]) => k !== 'containers')) },
    status: {},
  };
}

export function node(name: string, spec: Json = {}, labels: Record<string, string> = {}): Node {
  const capacity = { cpu: spec.cpu ?? '4', memory: spec.memory ?? '8Gi', pods: String(spec.pods ?? 110), ...(spec.extra ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: { taints: spec.taints, unschedulable: spec.unschedulable },
    status: { capacity, allocatable: capacity, images: spec.images },
  };
}

/** A NodeInfo for `n` holding `pods`. */
export function nodeInfo(n: Node, pods: Pod[] = []): NodeInfo {
  const info = new NodeInfo(n.metadata.name!);
  info.setNode(n);
  for (const p of pods) info.addPod(podInfoOf({ ...p, spec: { ...p.spec, nodeName: n.metadata.name } }));
  return info;
}
