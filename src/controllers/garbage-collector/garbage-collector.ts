/**
 * The garbage collector (upstream's garbagecollector package): watches every deletable resource
 * the server serves, keeps the ownerReferences graph (graph.ts), and acts on what the graph
 * points at:
 *  - a dependent none of whose owners exists any more (or exists with another uid) is deleted,
 *    with the propagation its own finalizers ask for — Background cascades this way, level by level;
 *  - an owner deleted in the Foreground (`foregroundDeletion` finalizer) first has its dependents
 *    deleted in the foreground too, and loses the finalizer once no dependent with
 *    blockOwnerDeletion is left;
 *  - an owner deleted with the `orphan` finalizer has its reference removed from every
 *    dependent, then loses the finalizer;
 *  - a dependent that still has a live owner keeps it, but references to owners that are gone
 *    (or waiting on their dependents) are removed.
 * Decisions are made on fresh reads from the API, never on the informers' view alone, as upstream does.
 */
import type { OwnerReference } from '../../api/object.js';
import { ApiError } from '../../api/status.js';
import type { ApiClient, DiscoveredResource, Obj } from '../../client/api-client.js';
import type { SharedInformer } from '../../client/informer.js';
import { apiVersionOfType } from '../../client/resource-types.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../../registry/generic-store.js';
import { log } from '../../server/log.js';
import type { ControllerDefinition } from '../manager.js';
import { startReconciler } from '../reconciler.js';
import { DependencyGraph, hasFinalizer, type GraphNode, type ObjectIdentity } from './graph.js';

/** Resources never watched (upstream's DefaultIgnoredResources): events come and go too fast to own anything. */
const IGNORED = new Set(['/events', 'events.k8s.io/events']);
/** How often the set of watched resources is compared with discovery (upstream: 30 s). */
const RESYNC_RESOURCES_MS = 30_000;
/** Upstream's absentOwnerCache size. */
const ABSENT_OWNER_CACHE = 500;
const VIRTUAL_PREFIX = 'virtual:';

export const garbageCollectorController: ControllerDefinition = {
  name: 'garbage-collector-controller',
  aliases: ['garbagecollector'],
  serviceAccount: 'generic-garbage-collector',
  workersFlag: { name: 'concurrent-gc-syncs', default: 20 },
  async start(context) {
    const { client } = context;
    const deleteQueue = context.newQueue('garbage_collector_attempt_to_delete');
    const orphanQueue = context.newQueue('garbage_collector_attempt_to_orphan');
    const graph = new DependencyGraph({
      attemptToDelete: (node, virtual) => deleteQueue.add(virtual ? VIRTUAL_PREFIX + node.identity.uid : node.identity.uid),
      attemptToOrphan: (node) => orphanQueue.add(node.identity.uid),
    });
    const resources = new ResourceResolver(client);
    const collector = new Collector(client, graph, resources, (node) => deleteQueue.add(node.identity.uid));

    const monitors = new Map<string, { informer: SharedInformer; handler: { remove(): void } }>();
    async function syncMonitors(): Promise<SharedInformer[]> {
      for (const type of await resources.refresh()) {
        const id = `${type.group}/${type.resource}`;
        if (monitors.has(id) || IGNORED.has(id) || !['list', 'watch', 'delete'].every((verb) => type.verbs.includes(verb))) continue;
        const informer = context.informers.informer(type);
        const apiVersion = apiVersionOfType(type);
        const handler = informer.addEventHandler({
          onAdd: (object) => graph.observe('add', apiVersion, type.kind, object),
          onUpdate: (old, object) => graph.observe('update', apiVersion, type.kind, object, old),
          onDelete: (object) => graph.observe('delete', apiVersion, type.kind, object),
        });
        monitors.set(id, { informer, handler });
        void informer.start();
      }
      return [...monitors.values()].map((m) => m.informer);
    }
    const informers = await syncMonitors();
    // Custom resources appear later; their objects join the graph when they do.
    const resync = setInterval(() => void syncMonitors().catch((error) => log.warn('garbage collector: resource discovery failed', { error: String(error) })), RESYNC_RESOURCES_MS);
    resync.unref();

    const orphaning = await startReconciler({ context, queue: orphanQueue, informers, reconcile: (uid) => collector.attemptToOrphan(uid) });
    const deleting = await startReconciler({
      context,
      queue: deleteQueue,
      informers,
      reconcile: async (key) => {
        const virtualOnly = key.startsWith(VIRTUAL_PREFIX);
        const uid = virtualOnly ? key.slice(VIRTUAL_PREFIX.length) : key;
        const node = graph.node(uid);
        // Gone from the graph, or a virtual owner an informer has since seen: nothing to verify.
        if (!node || (virtualOnly && !node.virtual)) return;
        await collector.attemptToDelete(node);
        // The object exists but no informer has shown it yet: look again, backing off.
        if (node.virtual && graph.node(uid) === node) return { requeueAfterMs: collector.virtualBackoff(uid) };
        collector.forgetVirtual(uid);
      },
    });
    return {
      async stop() {
        clearInterval(resync);
        for (const { handler } of monitors.values()) handler.remove();
        await Promise.all([deleting.stop(), orphaning.stop()]);
      },
    };
  },
};

/** Finds the served resource for an owner reference's apiVersion and kind (upstream's RESTMapper). */
class ResourceResolver {
  private byGroupKind = new Map<string, DiscoveredResource>();
  private refreshedAt = 0;

  constructor(private readonly client: ApiClient) {}

  async refresh(): Promise<DiscoveredResource[]> {
    const resources = await this.client.discover();
    this.byGroupKind = new Map(resources.map((type) => [`${type.group}/${type.kind}`, type]));
    this.refreshedAt = Date.now();
    return resources;
  }

  /** The resource of `kind` in `apiVersion`'s group (the store keeps one version per group). */
  async resolve(apiVersion: string, kind: string): Promise<DiscoveredResource> {
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    let type = this.byGroupKind.get(`${group}/${kind}`);
    if (!type && Date.now() - this.refreshedAt > 1000) {
      await this.refresh();
      type = this.byGroupKind.get(`${group}/${kind}`);
    }
    if (!type) throw new Error(`unable to get REST mapping for ${apiVersion}/${kind}`);
    return type;
  }
}

/** The collector's decisions for one node, on fresh reads. */
class Collector {
  /** Owners known absent (by namespace and uid), so siblings of a dangling dependent need no read. */
  private readonly absentOwners = new Map<string, true>();
  private readonly virtualRetries = new Map<string, number>();

  constructor(
    private readonly client: ApiClient,
    private readonly graph: DependencyGraph,
    private readonly resources: ResourceResolver,
    /** Puts a node on the attempt-to-delete queue. */
    private readonly enqueue: (node: GraphNode) => void,
  ) {}

  virtualBackoff(uid: string): number {
    const attempt = (this.virtualRetries.get(uid) ?? 0) + 1;
    this.virtualRetries.set(uid, attempt);
    return Math.min(5 * 2 ** attempt, 1_000_000);
  }

  forgetVirtual(uid: string): void {
    this.virtualRetries.delete(uid);
  }

  /** attemptToDeleteItem: delete a node with no live owner, finish or advance a foreground deletion. */
  async attemptToDelete(node: GraphNode): Promise<void> {
    // Someone else is deleting it and nothing waits on us: its deletion completes without the collector.
    if (node.beingDeleted && !node.deletingDependents) return;
    const latest = await this.getObject(node.identity);
    if (!latest || latest.metadata.uid !== node.identity.uid) {
      this.graph.virtualDelete(node.identity);
      return;
    }
    if (node.deletingDependents) return this.processDeletingDependents(node);
    const refs: OwnerReference[] = latest.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const { solid, dangling, waiting } = await this.classify(node, refs);
    if (solid.length > 0) {
      // A live owner keeps it; references to owners gone or waiting on their dependents are dropped.
      if (dangling.length === 0 && waiting.length === 0) return;
      await this.removeOwnerReferences(node.identity, [...dangling, ...waiting].map((ref) => ref.uid));
      return;
    }
    if (waiting.length > 0 && node.dependents.size > 0) {
      // An owner waits on it and it has dependents of its own: it goes in the foreground too. A
      // dependent already doing so could be a cycle; unblocking our own references breaks it.
      for (const dependent of node.dependents) {
        if (dependent.deletingDependents) {
          await this.unblockOwnerReferences(node.identity);
          break;
        }
      }
      await this.deleteObject(node.identity, 'Foreground');
      return;
    }
    const policy = hasFinalizer(latest, ORPHAN_FINALIZER) ? 'Orphan' : hasFinalizer(latest, FOREGROUND_FINALIZER) ? 'Foreground' : 'Background';
    await this.deleteObject(node.identity, policy);
  }

  /** An owner deleted in the foreground: done when no blocking dependent is left, else those are deleted first. */
  private async processDeletingDependents(node: GraphNode): Promise<void> {
    const blocking = node.blockingDependents();
    if (blocking.length === 0) {
      await this.removeFinalizer(node.identity, FOREGROUND_FINALIZER);
      return;
    }
    for (const dependent of blocking) if (!dependent.deletingDependents) this.enqueue(dependent);
  }

  /** An owner deleted with the orphan finalizer: strip its reference from every dependent, then let it go. */
  async attemptToOrphan(uid: string): Promise<void> {
    const node = this.graph.node(uid);
    if (!node) return;
    await Promise.all([...node.dependents].map((dependent) => this.removeOwnerReferences(dependent.identity, [uid])));
    await this.removeFinalizer(node.identity, ORPHAN_FINALIZER);
  }

  private async classify(node: GraphNode, refs: OwnerReference[]) {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const owner = await this.liveOwner(ref, node);
      if (!owner) dangling.push(ref);
      else if (owner.metadata.deletionTimestamp && hasFinalizer(owner, FOREGROUND_FINALIZER)) waiting.push(ref);
      else solid.push(ref);
    }
    return { solid, dangling, waiting };
  }

  /** The owner a reference names, read fresh; undefined when it does not exist or has another uid (isDangling). */
  private async liveOwner(ref: OwnerReference, dependent: GraphNode): Promise<Obj | undefined> {
    const type = await this.resources.resolve(ref.apiVersion ?? '', ref.kind);
    const namespace = type.namespaced ? dependent.identity.namespace : undefined;
    // A cluster-scoped object cannot be owned by a namespaced one: such a reference is treated as absent.
    if (type.namespaced && !namespace) return undefined;
    const cacheKey = `${namespace ?? ''}|${ref.uid}`;
    if (this.absentOwners.has(cacheKey)) return undefined;
    const owner = await this.read(type, namespace, ref.name);
    if (!owner || owner.metadata.uid !== ref.uid) {
      this.absentOwners.set(cacheKey, true);
      if (this.absentOwners.size > ABSENT_OWNER_CACHE) this.absentOwners.delete(this.absentOwners.keys().next().value!);
      return undefined;
    }
    return owner;
  }

  private async getObject(identity: ObjectIdentity): Promise<Obj | undefined> {
    const type = await this.resources.resolve(identity.apiVersion, identity.kind);
    if (type.namespaced && !identity.namespace) return undefined;
    return this.read(type, type.namespaced ? identity.namespace : undefined, identity.name);
  }

  private async read(type: DiscoveredResource, namespace: string | undefined, name: string): Promise<Obj | undefined> {
    try {
      return await this.client.get(type, namespace, name);
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return undefined;
      throw error;
    }
  }

  private async deleteObject(identity: ObjectIdentity, propagationPolicy: 'Orphan' | 'Background' | 'Foreground'): Promise<void> {
    const type = await this.resources.resolve(identity.apiVersion, identity.kind);
    try {
      await this.client.delete(type, type.namespaced ? identity.namespace : undefined, identity.name, { propagationPolicy, preconditions: { uid: identity.uid } });
    } catch (error) {
      // Gone already, or the name now belongs to another object: nothing of ours to delete.
      if (error instanceof ApiError && (error.code === 404 || error.code === 409)) return;
      throw error;
    }
  }

  /** Changes the object `identity` names, if it is still that object (uid), by `change` (false: leave it). */
  private async patchIfSame(identity: ObjectIdentity, change: (object: Obj) => boolean): Promise<void> {
    const type = await this.resources.resolve(identity.apiVersion, identity.kind);
    try {
      await this.client.mutate(type, type.namespaced ? identity.namespace : undefined, identity.name, (current) => {
        if (current.metadata.uid !== identity.uid) return current;
        change(current);
        return current;
      });
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return;
      throw error;
    }
  }

  private removeOwnerReferences(identity: ObjectIdentity, uids: string[]): Promise<void> {
    return this.patchIfSame(identity, (object) => {
      const refs: OwnerReference[] = object.metadata.ownerReferences ?? [];
      const kept = refs.filter((ref) => !uids.includes(ref.uid));
      if (kept.length === refs.length) return false;
      if (kept.length > 0) object.metadata.ownerReferences = kept;
      else delete object.metadata.ownerReferences;
      return true;
    });
  }

  private unblockOwnerReferences(identity: ObjectIdentity): Promise<void> {
    return this.patchIfSame(identity, (object) => {
      let changed = false;
      for (const ref of (object.metadata.ownerReferences ?? []) as OwnerReference[]) {
        if (ref.blockOwnerDeletion) {
          ref.blockOwnerDeletion = false;
          changed = true;
        }
      }
      return changed;
    });
  }

  private removeFinalizer(identity: ObjectIdentity, finalizer: string): Promise<void> {
    return this.patchIfSame(identity, (object) => {
      const finalizers: string[] = object.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return false;
      object.metadata.finalizers = finalizers.filter((f) => f !== finalizer);
      return true;
    });
  }
}
