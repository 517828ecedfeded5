/**
 * The nodes and pods of the scheduler benchmarks (upstream scheduler_perf's SchedulingBasic shape,
 * plus its pod anti-affinity and topology-spread variants), shared by bench/scheduler.ts (through
 * the API) and bench/scheduler-cycle.ts (the scheduler alone).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export const ZONES = 10;

/** A Ready node of 4 cpu / 32Gi / 110 pods in one of ZONES zones. */
export function schedulingNode(i: number): Json {
  const name = `node-${i}`;
  const capacity = { cpu: '4', memory: '32Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${i % ZONES}` } },
    status: { capacity, allocatable: capacity, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] },
  };
}

/** How many distinct pod shapes a scenario has: anti-affinity's groups of 1,000 pods, else one. */
export function podShapes(scenario: string, totalPods: number): number {
  return scenario === 'anti-affinity' ? Math.ceil(totalPods / 1000) : 1;
}

/** Pod i of a scenario: basic, anti-affinity (groups of 1,000 pods apart per host) or topology-spread (maxSkew 1 over zones). */
export function schedulingPod(scenario: string, i: number, totalPods: number, namespace: string): Json {
  const labels: Record<string, string> = {};
  const spec: Json = { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '100Mi' } } }] };
  if (scenario === 'anti-affinity') {
    labels.group = `g-${i % podShapes(scenario, totalPods)}`;
    spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { group: labels.group } }, topologyKey: 'kubernetes.io/hostname' }] } };
  }
  if (scenario === 'topology-spread') {
    labels.app = 'spread';
    spec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }];
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, namespace, labels }, spec };
}
