/**
 * A simulated pod's life on a virtual node, as data (KWOK's "stages" idea): from the pod's spec,
 * its annotations and the status it has now, what its status should be at `nowMs`, and when it
 * will next change by itself. Pure and level-triggered — the agent calls it whenever it looks at
 * a pod, writes the status when it differs, and looks again at `wakeAtMs`.
 *
 * Containers run until `nautilus.dev/run-seconds` have passed (forever without it), then exit
 * with `nautilus.dev/exit-code` (default 0). restartPolicy decides what follows: Always restarts,
 * OnFailure restarts non-zero exits, Never leaves them terminated; restarts back off as the
 * kubelet's do (immediately, then 10 s doubling to 5 minutes, in CrashLoopBackOff). A container
 * is ready `readinessProbe.initialDelaySeconds` after it starts.
 */
import { createHash } from 'node:crypto';
import { jsonEqual } from '../api/object.js';
import type { Obj } from '../client/api-client.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = Record<string, any>;
import { rfc3339 } from './node-object.js';

export const RUN_SECONDS_ANNOTATION = 'nautilus.dev/run-seconds';
export const EXIT_CODE_ANNOTATION = 'nautilus.dev/exit-code';
/** How long containers take to stop after SIGTERM (default 1 s, at most the grace period). */
export const STOP_SECONDS_ANNOTATION = 'nautilus.dev/stop-seconds';
export const DEFAULT_STOP_SECONDS = 1;

const MAX_BACKOFF_SECONDS = 300;

export interface PodPlan {
  /** The status to write, when it differs from the pod's. */
  status?: J;
  /** When the status will next change by itself (a container finishing, becoming ready, restarting). */
  wakeAtMs?: number;
  /** True when the pod has reached Succeeded or Failed. */
  terminal: boolean;
}

export interface PodPlacement {
  hostIp: string;
  podIp: string;
}

function numberAnnotation(pod: Obj, name: string): number | undefined {
  const raw = pod.metadata.annotations?.[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** "nginx" → "docker.io/library/nginx:latest", as container runtimes report images. */
export function normalizedImage(image: string): string {
  let name = image;
  const firstSlash = name.indexOf('/');
  const first = firstSlash < 0 ? '' : name.slice(0, firstSlash);
  if (firstSlash < 0) name = `docker.io/library/${name}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${name}`;
  const lastSlash = name.lastIndexOf('/');
  if (!name.includes('@') && !name.slice(lastSlash).includes(':')) name += ':latest';
  return name;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function imageId(image: string): string {
  const normalized = normalizedImage(image);
  const repository = normalized.includes('@') ? normalized.slice(0, normalized.indexOf('@')) : normalized.slice(0, normalized.lastIndexOf(':'));
  return `${repository}@sha256:${sha256(normalized)}`;
}

/** Stop time for a pod being deleted: the annotation's, capped by the grace period. */
export function stopSeconds(pod: Obj): number {
  const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.min(grace, numberAnnotation(pod, STOP_SECONDS_ANNOTATION) ?? DEFAULT_STOP_SECONDS);
}

function restartDelaySeconds(restartCount: number): number {
  return restartCount <= 1 ? 0 : Math.min(10 * 2 ** (restartCount - 2), MAX_BACKOFF_SECONDS);
}

function readinessDelaySeconds(container: J): number {
  const probe = container.readinessProbe;
  if (!probe) return 0;
  return Math.max(0, Number(probe.initialDelaySeconds ?? 0) || 0);
}

interface ContainerOutcome {
  status: J;
  ready: boolean;
  /** Still running or due to restart. */
  alive: boolean;
  exitCode?: number;
  wakeAtMs?: number;
}

function containerId(pod: Obj, name: string, restartCount: number): string {
  return `containerd://${sha256(`${pod.metadata.uid ?? pod.metadata.name}/${name}/${restartCount}`)}`;
}

function planContainer(pod: Obj, container: J, current: J | undefined, nowMs: number): ContainerOutcome {
  const name: string = container.name;
  const image = normalizedImage(String(container.image ?? ''));
  const base = { name, image, imageID: imageId(String(container.image ?? '')) };
  const runSeconds = numberAnnotation(pod, RUN_SECONDS_ANNOTATION);
  const exitCode = Math.trunc(numberAnnotation(pod, EXIT_CODE_ANNOTATION) ?? 0);
  const policy: string = pod.spec?.restartPolicy ?? 'Always';
  let restartCount: number = current?.restartCount ?? 0;
  let lastState: J = current?.lastState ?? {};
  let state: J | undefined = current?.state;
  let wakeAtMs: number | undefined;

  const running = (startedMs: number): J => ({ running: { startedAt: rfc3339(startedMs) } });
  let startedMs = parseTime(state?.running?.startedAt);
  if (!state || (!state.running && !state.terminated && state.waiting?.reason !== 'CrashLoopBackOff')) {
    startedMs = nowMs;
    state = running(nowMs);
  }
  if (state.waiting?.reason === 'CrashLoopBackOff') {
    const finished = parseTime(lastState.terminated?.finishedAt) ?? nowMs;
    const restartAt = finished + restartDelaySeconds(restartCount) * 1000;
    if (nowMs >= restartAt) {
      startedMs = nowMs;
      state = running(nowMs);
    } else {
      wakeAtMs = restartAt;
    }
  }
  if (state.running && startedMs !== undefined && runSeconds !== undefined) {
    const finishAt = startedMs + runSeconds * 1000;
    if (nowMs >= finishAt) {
      const terminated = {
        exitCode,
        reason: exitCode === 0 ? 'Completed' : 'Error',
        startedAt: rfc3339(startedMs),
        finishedAt: rfc3339(finishAt),
        containerID: containerId(pod, name, restartCount),
      };
      const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
      if (restart) {
        restartCount += 1;
        lastState = { terminated };
        const delay = restartDelaySeconds(restartCount);
        if (delay === 0) {
          startedMs = nowMs;
          state = running(nowMs);
        } else {
          state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delay}s restarting failed container=${name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})` } };
          wakeAtMs = finishAt + delay * 1000;
          startedMs = undefined;
        }
      } else {
        state = { terminated };
        startedMs = undefined;
      }
    }
    if (state.running) wakeAtMs = startedMs! + runSeconds * 1000;
  }
  let ready = false;
  if (state.running && startedMs !== undefined) {
    const readyAt = startedMs + readinessDelaySeconds(container) * 1000;
    ready = nowMs >= readyAt;
    if (!ready) wakeAtMs = Math.min(wakeAtMs ?? Infinity, readyAt);
  }
  const status: J = {
    ...base,
    ready,
    restartCount,
    started: Boolean(state.running),
    state,
    lastState,
    ...(state.waiting ? {} : { containerID: containerId(pod, name, restartCount) }),
  } as J;
  return { status, ready, alive: !state.terminated, exitCode: state.terminated?.exitCode, wakeAtMs };
}

function initContainerStatus(pod: Obj, container: J, current: J | undefined, nowMs: number): J {
  if (current?.state?.terminated || current?.state?.running) return current;
  const sidecar = container.restartPolicy === 'Always';
  const at = rfc3339(nowMs);
  const state = sidecar ? { running: { startedAt: at } } : { terminated: { exitCode: 0, reason: 'Completed', startedAt: at, finishedAt: at, containerID: containerId(pod, container.name, 0) } };
  return {
    name: container.name,
    image: normalizedImage(String(container.image ?? '')),
    imageID: imageId(String(container.image ?? '')),
    containerID: containerId(pod, container.name, 0),
    ready: sidecar,
    restartCount: 0,
    started: sidecar,
    state,
    lastState: {},
  } as J;
}

/** The status a running (or finished) pod should have at `nowMs`. */
export function planPod(pod: Obj, placement: PodPlacement, nowMs: number): PodPlan {
  const current: J = pod.status ?? {};
  if (current.phase === 'Succeeded' || current.phase === 'Failed') return { terminal: true };
  const byName = (list: J[] | undefined) => new Map((list ?? []).map((s) => [s.name, s]));
  const currentContainers = byName(current.containerStatuses);
  const currentInit = byName(current.initContainerStatuses);
  const outcomes = ((pod.spec?.containers ?? []) as J[]).map((c) => planContainer(pod, c, currentContainers.get(c.name), nowMs));
  const initStatuses = ((pod.spec?.initContainers ?? []) as J[]).map((c) => initContainerStatus(pod, c, currentInit.get(c.name), nowMs));
  const alive = outcomes.some((o) => o.alive);
  const phase = alive ? 'Running' : outcomes.every((o) => o.exitCode === 0) ? 'Succeeded' : 'Failed';
  const containersReady = alive && outcomes.every((o) => o.ready);
  const gates: J[] = pod.spec?.readinessGates ?? [];
  const currentConditions: J[] = current.conditions ?? [];
  const gatesPass = gates.every((g) => currentConditions.some((c) => c.type === g.conditionType && c.status === 'True'));
  const ready = containersReady && gatesPass;
  const notReadyReason = alive ? 'ContainersNotReady' : 'PodCompleted';
  const notReadyMessage = alive ? `containers with unready status: [${outcomes.filter((o) => !o.ready).map((o) => o.status.name).join(' ')}]` : '';
  const condition = (type: string, status: boolean, reason?: string, message?: string): J => {
    const existing = currentConditions.find((c) => c.type === type);
    const value = status ? 'True' : 'False';
    const unchanged = existing?.status === value;
    return {
      type,
      status: value,
      lastProbeTime: null,
      lastTransitionTime: unchanged ? existing!.lastTransitionTime : rfc3339(nowMs),
      ...(status || !reason ? {} : { reason, ...(message ? { message } : {}) }),
    } as J;
  };
  const conditions: J[] = [
    condition('PodReadyToStartContainers', alive),
    condition('Initialized', true),
    condition('Ready', ready, containersReady ? 'ReadinessGatesNotReady' : notReadyReason, containersReady ? 'the status of pod readiness gate is not "True"' : notReadyMessage),
    condition('ContainersReady', containersReady, notReadyReason, notReadyMessage),
    currentConditions.find((c) => c.type === 'PodScheduled') ?? condition('PodScheduled', true),
    // Conditions others own (readiness gates, DisruptionTarget) stay as they are.
    ...currentConditions.filter((c) => !['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].includes(c.type)),
  ];
  const status: J = {
    ...current,
    phase,
    conditions,
    hostIP: placement.hostIp,
    hostIPs: [{ ip: placement.hostIp }],
    podIP: placement.podIp,
    podIPs: [{ ip: placement.podIp }],
    startTime: current.startTime ?? rfc3339(nowMs),
    containerStatuses: outcomes.map((o) => o.status),
    ...(initStatuses.length > 0 ? { initContainerStatuses: initStatuses } : {}),
  } as J;
  const wakes = outcomes.map((o) => o.wakeAtMs).filter((at): at is number => at !== undefined);
  return {
    status: jsonEqual(status, current) ? undefined : status,
    wakeAtMs: wakes.length > 0 ? Math.min(...wakes) : undefined,
    terminal: phase !== 'Running',
  };
}
