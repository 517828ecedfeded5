/**
 * The garbage collector's dependency graph (upstream's GraphBuilder): one node per object of
 * every watched resource, keyed by uid, with edges from each owner to its dependents. Informer
 * events keep it current, in commit order, with a few map operations each — no object is ever
 * looked up by walking a store. Owners referred to but not (yet) seen become "virtual" nodes,
 * checked against the API by the collector: an owner that does not exist makes its dependents
 * dangling.
 *
 * The graph decides nothing; it says which nodes the collector should look at:
 *  - `attemptToDelete` when a node may now be garbage (its owner went away, it is a virtual
 *    owner to verify, it must go in the foreground, or an owner waiting on it may finish);
 *  - `attemptToOrphan` when a node was deleted with the `orphan` finalizer.
 */
import type { OwnerReference } from '../../api/object.js';
import type { Obj } from '../../client/api-client.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../../registry/generic-store.js';

/** What the collector needs to find an object again. */
export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  /** The object's namespace; for a virtual owner, its dependent's (resolved against the owner's scope). */
  namespace?: string;
}

/** What a node without dependents answers (most nodes: pods own nothing). */
const NO_DEPENDENTS: ReadonlySet<GraphNode> = new Set();

export class GraphNode {
  /** Made with the first dependent: an empty Set per pod is ~140 bytes times every pod. */
  #dependents?: Set<GraphNode>;
  owners: readonly OwnerReference[] = [];
  /** Has a deletionTimestamp. */
  beingDeleted = false;
  /** Being deleted with foregroundDeletion: waits for its blocking dependents. */
  deletingDependents = false;

  constructor(
    public identity: ObjectIdentity,
    /** Known only from someone's owner reference, not from an informer. */
    public virtual: boolean,
  ) {}

  get dependents(): ReadonlySet<GraphNode> {
    return this.#dependents ?? NO_DEPENDENTS;
  }

  addDependent(node: GraphNode): void {
    (this.#dependents ??= new Set()).add(node);
  }

  removeDependent(node: GraphNode): void {
    if (this.#dependents?.delete(node) && this.#dependents.size === 0) this.#dependents = undefined;
  }

  /** Dependents whose reference to this node blocks its deletion (blockOwnerDeletion). */
  blockingDependents(): GraphNode[] {
    return [...this.dependents].filter((dependent) => dependent.owners.some((ref) => ref.uid === this.identity.uid && ref.blockOwnerDeletion === true));
  }
}

export interface GraphSink {
  /** Look at `node` for deletion; `virtual` when the reason is only to verify a virtual owner. */
  attemptToDelete(node: GraphNode, virtual?: boolean): void;
  attemptToOrphan(node: GraphNode): void;
}

export type ChangeType = 'add' | 'update' | 'delete';

export class DependencyGraph {
  private readonly nodes = new Map<string, GraphNode>();

  constructor(private readonly sink: GraphSink) {}

  get size(): number {
    return this.nodes.size;
  }

  node(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  /** An informer saw `object` (of the given apiVersion and kind) added, updated or deleted. */
  observe(change: ChangeType, apiVersion: string, kind: string, object: Obj, old?: Obj): void {
    const uid = object.metadata.uid;
    if (!uid) return;
    const existing = this.nodes.get(uid);
    if (change === 'delete') {
      if (existing) this.removeAndNotify(existing);
      return;
    }
    const identity: ObjectIdentity = { apiVersion, kind, name: object.metadata.name ?? '', uid, namespace: object.metadata.namespace };
    const owners: readonly OwnerReference[] = object.metadata.ownerReferences ?? [];
    if (!existing) {
      const node = new GraphNode(identity, false);
      node.owners = owners;
      this.markDeletion(node, object);
      this.nodes.set(uid, node);
      this.addToOwners(node, owners);
      this.processTransitions(old, object, node);
      return;
    }
    if (existing.virtual) {
      // A virtual owner turned out to exist. Dependents whose reference does not fit what it is
      // (another kind, another namespace) check their references again; solid ones stay.
      existing.virtual = false;
      for (const dependent of existing.dependents) if (!refersTo(dependent, identity)) this.sink.attemptToDelete(dependent);
    }
    existing.identity = identity;
    const { added, removed, changed } = referenceDiff(existing.owners, owners);
    if (added.length || removed.length || changed.length) {
      // An owner waiting in the foreground for this dependent may now finish.
      for (const ref of [...removed, ...changed.filter(([before, after]) => before.blockOwnerDeletion && !after.blockOwnerDeletion).map(([before]) => before)]) {
        const owner = this.nodes.get(ref.uid);
        if (owner?.deletingDependents) this.sink.attemptToDelete(owner);
      }
      existing.owners = owners;
      this.addToOwners(existing, added);
      this.removeFromOwners(existing, removed);
    }
    this.markDeletion(existing, object);
    this.processTransitions(old, object, existing);
  }

  /** The collector found that a node's object does not exist (virtual owner never there, or gone). */
  virtualDelete(identity: ObjectIdentity): void {
    const node = this.nodes.get(identity.uid);
    if (!node) return;
    if (!node.virtual) {
      // The uid exists under another identity: dependents naming the wrong one look again.
      for (const dependent of node.dependents) this.sink.attemptToDelete(dependent);
      return;
    }
    this.removeAndNotify(node);
  }

  private removeAndNotify(node: GraphNode): void {
    this.nodes.delete(node.identity.uid);
    this.removeFromOwners(node, node.owners);
    // Its dependents may now be dangling; owners waiting on it may finish.
    for (const dependent of node.dependents) this.sink.attemptToDelete(dependent);
    for (const ref of node.owners) {
      const owner = this.nodes.get(ref.uid);
      if (owner?.deletingDependents) this.sink.attemptToDelete(owner);
    }
  }

  private markDeletion(node: GraphNode, object: Obj): void {
    node.beingDeleted = !!object.metadata.deletionTimestamp;
    if (node.beingDeleted && hasFinalizer(object, FOREGROUND_FINALIZER)) node.deletingDependents = true;
  }

  private addToOwners(node: GraphNode, refs: readonly OwnerReference[]): void {
    for (const ref of refs) {
      if (!ref?.uid) continue;
      let owner = this.nodes.get(ref.uid);
      if (!owner) {
        owner = new GraphNode({ apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: node.identity.namespace }, true);
        this.nodes.set(ref.uid, owner);
        this.sink.attemptToDelete(owner, true);
      } else if (!owner.virtual && !refersTo(node, owner.identity)) {
        // The uid is known, as something else than the reference says: the reference is checked.
        this.sink.attemptToDelete(node);
      }
      owner.addDependent(node);
    }
  }

  private removeFromOwners(node: GraphNode, refs: readonly OwnerReference[]): void {
    for (const ref of refs) this.nodes.get(ref?.uid)?.removeDependent(node);
  }

  /** Deletions that start waiting on the collector: orphaning, or deleting dependents first. */
  private processTransitions(old: Obj | undefined, object: Obj, node: GraphNode): void {
    if (startsWaitingFor(ORPHAN_FINALIZER, old, object)) {
      this.sink.attemptToOrphan(node);
      return;
    }
    if (startsWaitingFor(FOREGROUND_FINALIZER, old, object)) {
      node.deletingDependents = true;
      for (const dependent of node.dependents) this.sink.attemptToDelete(dependent);
      this.sink.attemptToDelete(node);
    }
  }
}

/** Whether `dependent`'s reference to `owner`'s uid names it rightly: same group and kind, same namespace when the owner has one. */
function refersTo(dependent: GraphNode, owner: ObjectIdentity): boolean {
  const ref = dependent.owners.find((r) => r.uid === owner.uid);
  if (!ref) return true;
  const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');
  if (ref.kind !== owner.kind || group(ref.apiVersion ?? '') !== group(owner.apiVersion)) return false;
  return !owner.namespace || owner.namespace === dependent.identity.namespace;
}

export function hasFinalizer(object: Obj, finalizer: string): boolean {
  return Array.isArray(object.metadata.finalizers) && object.metadata.finalizers.includes(finalizer);
}

function startsWaitingFor(finalizer: string, old: Obj | undefined, object: Obj): boolean {
  if (!object.metadata.deletionTimestamp || !hasFinalizer(object, finalizer)) return false;
  return !old || !old.metadata.deletionTimestamp || !hasFinalizer(old, finalizer);
}

function referenceDiff(before: readonly OwnerReference[], after: readonly OwnerReference[]) {
  const beforeByUid = new Map(before.filter((r) => r?.uid).map((r) => [r.uid, r]));
  const afterByUid = new Map(after.filter((r) => r?.uid).map((r) => [r.uid, r]));
  const added = [...afterByUid.values()].filter((r) => !beforeByUid.has(r.uid));
  const removed = [...beforeByUid.values()].filter((r) => !afterByUid.has(r.uid));
  const changed: Array<[OwnerReference, OwnerReference]> = [];
  for (const [uid, ref] of afterByUid) {
    const previous = beforeByUid.get(uid);
    if (previous && (previous.blockOwnerDeletion !== ref.blockOwnerDeletion || previous.controller !== ref.controller || previous.name !== ref.name || previous.kind !== ref.kind || previous.apiVersion !== ref.apiVersion)) changed.push([previous, ref]);
  }
  return { added, removed, changed };
}
