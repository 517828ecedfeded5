/**
 * A stand-in for kubelets in tests that run no node agents: it marks pods Running and Ready
 * through the pods/status subresource, as a kubelet reports them, so controllers see pods become
 * available, and confirms graceful deletions (a pod bound to a node waits with a
 * deletionTimestamp until its kubelet deletes it with grace 0). Either once (`markReady`,
 * `confirmDeletion`) or continuously (`startFakeKubelet`).
 */
import { rawClient } from './harness.js';

type Raw = Awaited<ReturnType<typeof rawClient>>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Pod = { metadata: { name: string; namespace: string; uid?: string; deletionTimestamp?: string; deletionGracePeriodSeconds?: number; labels?: Record<string, string> }; spec: any; status?: any };

export function isReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

let podIps = 0;

/** A pod IP no other pod of this test process got (10.244.0.10, 10.244.0.11, …). */
function nextPodIp(): string {
  const n = 10 + podIps++;
  return `10.244.${Math.floor(n / 250)}.${n % 250}`;
}

/** The status a kubelet writes for a pod whose containers all started and passed readiness. */
export function runningReadyStatus(pod: Pod, now = new Date()): Record<string, unknown> {
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: time });
  return {
    phase: 'Running',
    conditions: [condition('PodReadyToStartContainers'), condition('Initialized'), condition('Ready'), condition('ContainersReady'), condition('PodScheduled')],
    hostIP: '10.0.0.1',
    podIP: pod.status?.podIP ?? nextPodIp(),
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

/** Whether a pod waits for its kubelet to finish a graceful deletion. */
export function awaitsKubelet(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp !== undefined && (pod.metadata.deletionGracePeriodSeconds ?? 0) > 0;
}

/**
 * What a kubelet does once a terminating pod's containers stopped: deletes it with grace 0,
 * pinned to its uid so a successor of the same name is never touched.
 */
export async function confirmDeletion(raw: Raw, pod: Pod): Promise<void> {
  const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
  const body = JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
  const response = await raw.request('DELETE', path, body, { 'content-type': 'application/json' });
  // Gone already, or replaced by a pod of the same name (uid precondition): nothing to confirm.
  if (response.status !== 200 && response.status !== 404 && response.status !== 409) throw new Error(`confirm deletion ${pod.metadata.name}: ${response.status} ${response.body}`);
}

export interface FakeKubelet {
  /** Stops marking pods (those already Ready stay so). */
  pause(): void;
  resume(): void;
  /** How many pods it has marked Ready. */
  readonly marked: number;
  stop(): Promise<void>;
}

/** Binds a pod to a node through pods/binding, as the scheduler does. */
export async function bind(raw: Raw, pod: Pod, node: string): Promise<void> {
  const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/binding`;
  const response = await raw.request('POST', path, JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name }, target: { kind: 'Node', name: node } }));
  if (response.status !== 201 && response.status !== 404 && response.status !== 409) throw new Error(`bind ${pod.metadata.name}: ${response.status} ${response.body}`);
}

export interface FakeKubeletOptions {
  /**
   * A stand-in for the scheduler: binds unbound pods of the default scheduler round-robin to
   * these nodes first, and marks only bound pods Running. Without it, every pod is marked.
   */
  schedule?: readonly string[];
}

/**
 * Every `intervalMs`, marks each pod of `namespace` that is not Ready and not terminating Running
 * and Ready, and confirms the graceful deletion of each terminating one.
 */
export async function startFakeKubelet(kubeconfig: string, namespace: string, intervalMs = 100, options: FakeKubeletOptions = {}): Promise<FakeKubelet> {
  const raw = await rawClient(kubeconfig);
  let paused = false;
  let stopped = false;
  let marked = 0;
  let nextNode = 0;
  const loop = (async () => {
    while (!stopped) {
      if (!paused) {
        try {
          for (const pod of await listPods(raw, namespace)) {
            if (stopped || paused) break;
            if (awaitsKubelet(pod)) {
              await confirmDeletion(raw, pod);
              continue;
            }
            if (pod.metadata.deletionTimestamp || isReady(pod)) continue;
            if (options.schedule && !pod.spec?.nodeName) {
              if ((pod.spec?.schedulerName ?? 'default-scheduler') !== 'default-scheduler') continue;
              await bind(raw, pod, options.schedule[nextNode++ % options.schedule.length]);
              continue;
            }
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
