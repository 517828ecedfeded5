/**
 * Controller references (upstream's ControllerRefManager): a controller owns the objects whose
 * `controller: true` owner reference names it; it adopts orphans its selector matches and
 * releases what it owns but no longer matches. Candidates come from two indexes — the label
 * index (what the selector could match) and the controller-uid index (what it owns) — so a
 * sync looks at its own objects, never at the whole namespace.
 */
import type { OwnerReference } from '../../api/object.js';
import { ApiError } from '../../api/status.js';
import { matchesLabels, type LabelSelector } from '../../api/selectors.js';
import type { ApiClient, Obj } from '../../client/api-client.js';
import type { SharedInformer } from '../../client/informer.js';
import { apiVersionOfType, type ResourceType } from '../../client/resource-types.js';
import { controllerOf, keyOf } from '../reconciler.js';

export const CONTROLLER_UID_INDEX = 'controller-uid';

/** Indexes `informer`'s objects by the uid of their controller (idempotent). */
export function indexByController(informer: SharedInformer): void {
  informer.addIndexer(CONTROLLER_UID_INDEX, (object) => {
    const ref = controllerOf(object);
    return ref?.uid ? [ref.uid] : [];
  });
}

/** The reference a controller puts on what it creates or adopts (metav1.NewControllerRef). */
export function newControllerRef(owner: Obj, ownerType: ResourceType): OwnerReference {
  return { apiVersion: apiVersionOfType(ownerType), kind: ownerType.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** Objects in `owner`'s namespace that its selector matches or that it owns. `informer` must be indexed by controller. */
export function claimCandidates(informer: SharedInformer, owner: Obj, selector: LabelSelector): Obj[] {
  const namespace = owner.metadata.namespace;
  const byKey = new Map<string, Obj>();
  for (const object of informer.lister.list(namespace, selector)) byKey.set(keyOf(object), object);
  for (const object of informer.lister.byIndex(CONTROLLER_UID_INDEX, owner.metadata.uid!)) {
    if (object.metadata.namespace === namespace) byKey.set(keyOf(object), object);
  }
  return [...byKey.values()];
}

export interface ClaimSpec {
  client: ApiClient;
  /** The owner, as cached, and its type. */
  owner: Obj;
  ownerType: ResourceType;
  /** The type of the objects claimed. */
  type: ResourceType;
  selector: LabelSelector;
}

/**
 * Which of `objects` the owner controls once adoption and release are done (ClaimObject):
 * owned by another controller → skipped; owned and matching → kept; owned and not matching →
 * released (unless the owner is being deleted); orphaned and matching → adopted, once a fresh
 * read shows the owner is still there and not being deleted.
 */
export async function claimObjects(spec: ClaimSpec, objects: readonly Obj[]): Promise<Obj[]> {
  const { owner } = spec;
  const ownerUid = owner.metadata.uid!;
  let recheck: Promise<void> | undefined;
  const canAdopt = () => (recheck ??= recheckOwner(spec));
  const claimed: Obj[] = [];
  const failures: Error[] = [];
  for (const object of objects) {
    const ref = controllerOf(object);
    const matches = matchesLabels(spec.selector, object.metadata.labels);
    try {
      if (ref) {
        if (ref.uid !== ownerUid) continue;
        if (matches) claimed.push(object);
        else if (!owner.metadata.deletionTimestamp) await release(spec, object);
        continue;
      }
      if (owner.metadata.deletionTimestamp || !matches || object.metadata.deletionTimestamp) continue;
      if (object.metadata.namespace !== owner.metadata.namespace) continue;
      await canAdopt();
      const adopted = await adopt(spec, object);
      if (adopted) claimed.push(adopted);
    } catch (error) {
      failures.push(error as Error);
    }
  }
  if (failures.length > 0) throw failures[0];
  return claimed;
}

async function recheckOwner({ client, owner, ownerType }: ClaimSpec): Promise<void> {
  const { namespace, name, uid } = owner.metadata;
  const fresh = await client.get(ownerType, namespace, name!);
  if (fresh.metadata.uid !== uid) throw new Error(`original ${namespace}/${name} is gone: got uid ${fresh.metadata.uid}, wanted ${uid}`);
  if (fresh.metadata.deletionTimestamp) throw new Error(`${namespace}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
}

/** Sets the owner as controller of `object`; undefined when it is gone or another controller got there first. */
async function adopt(spec: ClaimSpec, object: Obj): Promise<Obj | undefined> {
  const ref = newControllerRef(spec.owner, spec.ownerType);
  let taken = false;
  try {
    const adopted = await spec.client.mutate(spec.type, object.metadata.namespace, object.metadata.name!, (current) => {
      taken = current.metadata.uid !== object.metadata.uid || controllerOf(current) !== undefined || !!current.metadata.deletionTimestamp;
      if (taken) return current;
      const others = (current.metadata.ownerReferences ?? []).filter((r: OwnerReference) => r.uid !== ref.uid);
      current.metadata.ownerReferences = [...others, ref];
      return current;
    });
    return taken ? undefined : adopted;
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) return undefined;
    throw error;
  }
}

/** Removes the owner's reference from `object` (it stopped matching the selector). */
export async function release(spec: Pick<ClaimSpec, 'client' | 'type' | 'owner'>, object: Obj): Promise<void> {
  const ownerUid = spec.owner.metadata.uid;
  try {
    await spec.client.mutate(spec.type, object.metadata.namespace, object.metadata.name!, (current) => {
      if (current.metadata.uid !== object.metadata.uid) return current;
      const refs: OwnerReference[] = current.metadata.ownerReferences ?? [];
      const kept = refs.filter((r) => r.uid !== ownerUid);
      if (kept.length === refs.length) return current;
      if (kept.length > 0) current.metadata.ownerReferences = kept;
      else delete current.metadata.ownerReferences;
      return current;
    });
  } catch (error) {
    // Gone, or no longer valid to change: nothing left to release.
    if (!(error instanceof ApiError && (error.code === 404 || error.code === 422))) throw error;
  }
}
