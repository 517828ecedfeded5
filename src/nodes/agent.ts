/**
 * A pool of virtual kubelets: many nodes, one agent. Each node registers its Node, renews its
 * Lease every 10 s, posts its status every 5 minutes (upstream's report frequency), and runs the
 * pods bound to it through `planPod`. Every write goes through the node's own client
 * (`system:node:<name>`), so the Node authorizer and RBAC judge it as a real kubelet's.
 *
 * Scale: no per-node or per-pod timers or loops. Two work queues (nodes, pods) de-duplicate keys
 * and keep every future wake-up — lease renewals, containers finishing, readiness delays, grace
 * periods — in one heap behind one timer (WorkQueue.addAfter); a bounded number of workers does
 * the writes. A pod is looked at when it changes or when its plan says it will change.
 */
import { ApiError } from '../api/status.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import { LEASES, NODES, objectKey, PODS, splitKey } from '../client/resource-types.js';
import type { SharedInformer } from '../client/informer.js';
import { WorkQueue } from '../client/work-queue.js';
import { ExponentialBackoff } from '../client/rate-limiter.js';
import { log } from '../server/log.js';
import { POD_NODE_INDEX } from '../auth/node-authorizer.js';
import { LEASE_RENEW_INTERVAL_MS, leaseObject, microTime, NODE_LEASE_NAMESPACE, NODE_STATUS_REPORT_INTERVAL_MS, nodeObject, nodeStatus, type NodeProfile } from './node-object.js';
import { PodAddressPool } from './pod-addresses.js';
import { planPod, stopSeconds } from './pod-lifecycle.js';

export interface VirtualNodePoolOptions {
  nodes: readonly NodeProfile[];
  /** The API as the node's kubelet (`system:node:<name>`). */
  clientFor(nodeName: string): ApiClient;
  /** An informer holding (at least) the pods bound to the node: one shared, or one per node. */
  podInformerFor(nodeName: string): SharedInformer;
  /** Concurrent writers (default 16). */
  workers?: number;
  now?: () => number;
}

interface NodeState {
  profile: NodeProfile;
  client: ApiClient;
  informer: SharedInformer;
  addresses: PodAddressPool;
  uid?: string;
  lease?: Obj;
  readySinceMs: number;
  registered: boolean;
}

export class VirtualNodePool {
  private readonly nodes = new Map<string, NodeState>();
  private readonly nodeQueue = new WorkQueue('virtual-nodes', { rateLimiter: new ExponentialBackoff(200, 10_000) });
  private readonly podQueue = new WorkQueue('virtual-node-pods', { rateLimiter: new ExponentialBackoff(200, 30_000) });
  /** Which node a queued pod key belongs to (from the informer event that named it). */
  private readonly podNode = new Map<string, string>();
  /**
   * The pod as this agent last wrote it, until the informer shows that revision: over HTTP the
   * cache lags, and planning from an older copy would undo (re-time) what was just written.
   */
  private readonly written = new Map<string, Obj>();
  private readonly handlers: Array<{ remove(): void }> = [];
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly options: VirtualNodePoolOptions) {
    this.now = options.now ?? Date.now;
    for (const profile of options.nodes) {
      this.nodes.set(profile.name, {
        profile,
        client: options.clientFor(profile.name),
        informer: options.podInformerFor(profile.name),
        addresses: new PodAddressPool(profile.podCidr),
        readySinceMs: this.now(),
        registered: false,
      });
    }
  }

  get nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  // --- what the kubelet endpoints read (KubeletBackend) ---

  hasNode(name: string): boolean {
    return this.nodes.has(name);
  }

  pod(namespace: string, name: string): Obj | undefined {
    const key = objectKey(namespace, name);
    const node = this.nodes.get(this.podNode.get(key) ?? '');
    return node ? this.currentPod(key, node) : undefined;
  }

  podsOn(nodeName: string): Obj[] {
    const node = this.nodes.get(nodeName);
    return node ? node.informer.lister.byIndex(POD_NODE_INDEX, nodeName) : [];
  }

  clientFor(nodeName: string): ApiClient {
    const node = this.nodes.get(nodeName);
    if (!node) throw new Error(`${nodeName} is not a node of this agent`);
    return node.client;
  }

  /** Registers every node and starts running their pods; resolves when all are registered. */
  async start(): Promise<void> {
    const informers = new Set([...this.nodes.values()].map((node) => node.informer));
    for (const informer of informers) {
      informer.addIndexer(POD_NODE_INDEX, (pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : []));
      this.handlers.push(
        informer.addEventHandler({
          onAdd: (pod) => this.podChanged(pod),
          onUpdate: (_old, pod) => this.podChanged(pod),
          onDelete: (pod) => this.podGone(pod),
        }),
      );
    }
    const workers = this.options.workers ?? 16;
    this.nodeQueue.run(workers, (key) => this.syncNode(key));
    this.podQueue.run(workers, (key) => this.syncPod(key));
    for (const name of this.nodes.keys()) this.nodeQueue.add(`register/${name}`);
    await Promise.all([...informers].map((informer) => informer.start()));
  }

  /** Resolves when every node has registered (or the pool stopped). */
  async registered(): Promise<void> {
    while (!this.stopped && [...this.nodes.values()].some((node) => !node.registered)) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const handler of this.handlers.splice(0)) handler.remove();
    await Promise.all([this.nodeQueue.shutDown(), this.podQueue.shutDown()]);
  }

  // --- nodes ---

  private async syncNode(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const slash = key.indexOf('/');
    const what = key.slice(0, slash);
    const node = this.nodes.get(key.slice(slash + 1));
    if (!node || this.stopped) return;
    if (what === 'register') {
      await this.register(node);
      // The first renewals spread over one interval, so thousands of nodes do not renew in step.
      this.nodeQueue.addAfter(`lease/${node.profile.name}`, Math.floor(Math.random() * LEASE_RENEW_INTERVAL_MS));
      this.nodeQueue.addAfter(`status/${node.profile.name}`, Math.floor(Math.random() * NODE_STATUS_REPORT_INTERVAL_MS));
      return;
    }
    if (what === 'lease') {
      await this.renewLease(node);
      return { requeueAfterMs: LEASE_RENEW_INTERVAL_MS };
    }
    if (what === 'status') {
      await this.postStatus(node);
      return { requeueAfterMs: NODE_STATUS_REPORT_INTERVAL_MS };
    }
  }

  private async register(node: NodeState): Promise<void> {
    const { client, profile } = node;
    let stored: Obj;
    try {
      stored = await client.create(NODES, undefined, nodeObject(profile, this.now()), { fieldManager: 'kubelet' });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409)) throw error;
      // Registered before (an agent restart): keep the Node, and the pod CIDR it was given.
      stored = await client.get(NODES, undefined, profile.name);
      const cidr: string | undefined = stored.spec?.podCIDR;
      if (cidr && cidr !== profile.podCidr) {
        node.profile = { ...profile, podCidr: cidr };
        node.addresses = new PodAddressPool(cidr);
      }
      stored = await client.patch(NODES, undefined, profile.name, 'merge', { status: nodeStatus(node.profile, this.now(), node.readySinceMs) }, { subresource: 'status', fieldManager: 'kubelet' });
    }
    node.uid = stored.metadata.uid;
    await this.renewLease(node);
    node.registered = true;
    // Pods bound before the node (re)registered were waiting for it.
    for (const pod of node.informer.lister.byIndex(POD_NODE_INDEX, profile.name)) this.podChanged(pod);
  }

  private async renewLease(node: NodeState): Promise<void> {
    const { client, profile } = node;
    const now = this.now();
    if (node.lease) {
      const renewed = { ...node.lease, spec: { ...node.lease.spec, holderIdentity: profile.name, renewTime: microTime(now) } };
      try {
        node.lease = await client.update(LEASES, NODE_LEASE_NAMESPACE, profile.name, renewed, { fieldManager: 'kubelet' });
        return;
      } catch (error) {
        if (!(error instanceof ApiError && (error.code === 409 || error.code === 404))) throw error;
      }
    }
    try {
      const current = await client.get(LEASES, NODE_LEASE_NAMESPACE, profile.name);
      node.lease = await client.update(LEASES, NODE_LEASE_NAMESPACE, profile.name, { ...current, spec: { ...current.spec, holderIdentity: profile.name, leaseDurationSeconds: leaseObject(profile.name, node.uid, now).spec.leaseDurationSeconds, renewTime: microTime(now) } }, { fieldManager: 'kubelet' });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
      node.lease = await client.create(LEASES, NODE_LEASE_NAMESPACE, leaseObject(profile.name, node.uid, now), { fieldManager: 'kubelet' });
    }
  }

  private async postStatus(node: NodeState): Promise<void> {
    try {
      await node.client.patch(NODES, undefined, node.profile.name, 'merge', { status: nodeStatus(node.profile, this.now(), node.readySinceMs) }, { subresource: 'status', fieldManager: 'kubelet' });
    } catch (error) {
      // A deleted Node registers again, as a kubelet does.
      if (error instanceof ApiError && error.code === 404) {
        node.registered = false;
        node.lease = undefined;
        this.nodeQueue.add(`register/${node.profile.name}`);
        return;
      }
      throw error;
    }
  }

  // --- pods ---

  private podChanged(pod: Obj): void {
    const nodeName: string | undefined = pod.spec?.nodeName;
    if (!nodeName || !this.nodes.has(nodeName)) return;
    const key = objectKey(pod.metadata.namespace, pod.metadata.name!);
    this.podNode.set(key, nodeName);
    this.podQueue.add(key);
  }

  private podGone(pod: Obj): void {
    const nodeName: string | undefined = pod.spec?.nodeName;
    if (!nodeName || !this.nodes.has(nodeName)) return;
    this.podQueue.add(objectKey(pod.metadata.namespace, pod.metadata.name!));
  }

  /** The freshest copy of the pod this agent knows: the informer's, or its own newer write. */
  private currentPod(key: string, node: NodeState): Obj | undefined {
    const { namespace, name } = splitKey(key);
    const cached = node.informer.lister.get(namespace, name);
    const mine = this.written.get(key);
    if (!mine) return cached;
    if (!cached || cached.metadata.uid !== mine.metadata.uid || Number(cached.metadata.resourceVersion) >= Number(mine.metadata.resourceVersion)) {
      this.written.delete(key);
      return cached;
    }
    return mine;
  }

  private async syncPod(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const nodeName = this.podNode.get(key);
    const node = nodeName ? this.nodes.get(nodeName) : undefined;
    if (!node || this.stopped) return;
    const pod = this.currentPod(key, node);
    if (!pod || pod.spec?.nodeName !== nodeName) {
      node.addresses.release(key);
      this.podNode.delete(key);
      this.written.delete(key);
      return;
    }
    if (!node.registered) return; // registration re-queues the node's pods
    const now = this.now();
    if (pod.metadata.deletionTimestamp) return this.finishDeletion(key, pod, node, now);
    const podIp = pod.status?.podIP ?? (pod.spec?.hostNetwork ? node.profile.internalIp : node.addresses.assign(key));
    if (pod.status?.podIP && !pod.spec?.hostNetwork) node.addresses.assign(key, pod.status.podIP);
    if (!podIp) {
      log.warn('virtual node has no free pod address', { node: nodeName, pod: key });
      return { requeueAfterMs: 10_000 };
    }
    const plan = planPod(pod, { hostIp: node.profile.internalIp, podIp }, now);
    if (plan.status) await this.writeStatus(key, pod, node, plan.status);
    if (plan.terminal) node.addresses.release(key);
    if (plan.wakeAtMs !== undefined) return { requeueAfterMs: Math.max(0, plan.wakeAtMs - now) };
  }

  private async writeStatus(key: string, pod: Obj, node: NodeState, status: Record<string, unknown>): Promise<void> {
    try {
      const written = await node.client.patch(PODS, pod.metadata.namespace, pod.metadata.name!, 'merge', { metadata: { uid: pod.metadata.uid }, status }, { subresource: 'status', fieldManager: 'kubelet' });
      this.written.set(key, written);
    } catch (error) {
      if (error instanceof ApiError && (error.code === 404 || error.code === 409)) return;
      throw error;
    }
  }

  /**
   * A pod being deleted: its containers stop (after `stopSeconds`, at most the grace period),
   * then the kubelet confirms the deletion with a 0-grace delete, as upstream's status manager.
   */
  private async finishDeletion(key: string, pod: Obj, node: NodeState, now: number): Promise<{ requeueAfterMs?: number } | void> {
    const grace = pod.metadata.deletionGracePeriodSeconds;
    if (grace === 0) return; // already confirmed; waiting for finalizers
    const requestedAt = Date.parse(pod.metadata.deletionTimestamp!) - (grace ?? 0) * 1000;
    const stopAt = requestedAt + stopSeconds(pod) * 1000;
    if (now < stopAt) return { requeueAfterMs: stopAt - now };
    // With finalizers (a Job's pod tracking), the pod outlives the delete: say how it ended first.
    if ((pod.metadata.finalizers ?? []).length > 0 && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed') {
      await this.writeStatus(key, pod, node, terminatedStatus(pod, now));
    }
    node.addresses.release(key);
    try {
      await node.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    } catch (error) {
      if (!(error instanceof ApiError && (error.code === 404 || error.code === 409))) throw error;
    }
  }
}

/** A deleted pod's containers, killed by SIGTERM (exit 143): the pod Failed, as upstream reports it. */
function terminatedStatus(pod: Obj, nowMs: number): Obj {
  const at = new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    ...(pod.status ?? {}),
    phase: 'Failed',
    containerStatuses: ((pod.status?.containerStatuses ?? []) as Obj[]).map((c) => ({
      ...c,
      ready: false,
      started: false,
      state: { terminated: { exitCode: 143, reason: 'Error', startedAt: c.state?.running?.startedAt ?? at, finishedAt: at, containerID: c.containerID } },
    })),
  };
}
