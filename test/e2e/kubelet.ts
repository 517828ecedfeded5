/**
 * A stand-in for kubelets in tests that run no node agents: it marks pods Running and Ready
 * through the pods/status subresource, as a kubelet reports them, so controllers see pods become
 * available. Either once (`markReady`) or continuously (`startFakeKubelet`).
 */
import { rawClient } from './harness.js';

type Raw = Awaited<ReturnType<typeof rawClient>>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Pod = { metadata: { name: string; namespace: string; deletionTimestamp?: string; labels?: Record<string, string> }; spec: any; status?: any };

export function isReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

/** The status a kubelet writes for a pod whose containers all started and passed readiness. */
export function runningReadyStatus(pod: Pod, now = new Date()): Record<string, unknown> {
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: time });
  return {
    phase: 'Running',
    conditions: [condition('PodReadyToStartContainers'), condition('Initialized'), condition('Ready'), condition('ContainersReady'), condition('PodScheduled')],
    hostIP: '10.0.0.1',
    podIP: '10.244.0.10',
    startTime: time,
    containerStatuses: (pod.spec?.containers ?? []).map((c: { name: string; image: string }) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: time } },
    })),
  };
}

export async function listPods(raw: Raw, namespace: string, labelSelector?: string): Promise<Pod[]> {
  const query = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
  const response = await raw.request('GET', `/api/v1/namespaces/${namespace}/pods${query}`);
  if (response.status !== 200) throw new Error(`list pods: ${response.status} ${response.body}`);
  return response.json<{ items: Pod[] }>().items;
}

/** Marks one pod Running and Ready through pods/status. */
export async function markReady(raw: Raw, pod: Pod): Promise<void> {
  const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`;
  const response = await raw.request('PATCH', path, JSON.stringify({ status: runningReadyStatus(pod) }), { 'content-type': 'application/merge-patch+json' });
  // A pod deleted meanwhile is no failure of the kubelet.
  if (response.status !== 200 && response.status !== 404) throw new Error(`mark ready ${pod.metadata.name}: ${response.status} ${response.body}`);
}

export interface FakeKubelet {
  /** Stops marking pods (those already Ready stay so). */
  pause(): void;
  resume(): void;
  /** How many pods it has marked Ready. */
  readonly marked: number;
  stop(): Promise<void>;
}

/** Every `intervalMs`, marks each pod of `namespace` that is not Ready and not terminating Running and Ready. */
export async function startFakeKubelet(kubeconfig: string, namespace: string, intervalMs = 100): Promise<FakeKubelet> {
  const raw = await rawClient(kubeconfig);
  let paused = false;
  let stopped = false;
  let marked = 0;
  const loop = (async () => {
    while (!stopped) {
      if (!paused) {
        try {
          for (const pod of await listPods(raw, namespace)) {
            if (stopped || paused) break;
            if (pod.metadata.deletionTimestamp || isReady(pod)) continue;
            await markReady(raw, pod);
            marked++;
          }
        } catch {
          // The server may be going away at the end of a test; the next round tries again.
        }
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    pause: () => (paused = true),
    resume: () => (paused = false),
    get marked() {
      return marked;
    },
    async stop() {
      stopped = true;
      await loop;
      raw.close();
    },
  };
}
