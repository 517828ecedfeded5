/**
 * Controller references (metav1.OwnerReference with controller=true) and claiming, as upstream's
 * ControllerRefManager: a controller adopts orphans its selector matches, releases what it owns
 * but no longer matches, and never touches what another controller owns. The garbage collector
 * deletes dependents through these references, so each carries blockOwnerDeletion.
 */
import type { OwnerReference } from '../api/object.js';
import { matchesLabels, type LabelSelector } from '../api/selectors.js';
import { ApiError } from '../api/status.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import type { SharedInformer } from '../client/informer.js';
import { apiVersionOfType, type ResourceType } from '../client/resource-types.js';
import { controllerOf } from './reconciler.js';

/** Named informer index: objects by the uid of their controller. */
export const BY_CONTROLLER_UID = 'controller-uid';

export function indexByControllerUid(informer: SharedInformer): void {
  informer.addIndexer(BY_CONTROLLER_UID, (object) => {
    const ref = controllerOf(object);
    return ref ? [ref.uid] : [];
  });
}

/** metav1.NewControllerRef. */
export function newControllerRef(owner: Obj, ownerType: ResourceType): OwnerReference {
  return { apiVersion: apiVersionOfType(ownerType), kind: ownerType.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export function isControlledBy(object: Obj, owner: Obj): boolean {
  return controllerOf(object)?.uid === owner.metadata.uid;
}

export interface ClaimOptions {
  client: ApiClient;
  /** The dependents' type (pods, controller revisions …). */
  type: ResourceType;
  owner: Obj;
  ownerType: ResourceType;
  selector: LabelSelector;
  /** Everything that may be claimed: those the owner controls and those its selector matches. */
  candidates: Iterable<Obj>;
  /** Finalizers an adopted object gets (the Job controller's tracking finalizer). */
  adoptFinalizers?: readonly string[];
  /** A further condition for belonging (a StatefulSet's pods must be named after it). */
  filter?: (object: Obj) => boolean;
}

/** Dependents the owner's informer index and selector point at, each once. */
export function claimCandidates(informer: SharedInformer, owner: Obj, selector: LabelSelector): Obj[] {
  const byKey = new Map<string, Obj>();
  for (const object of informer.lister.byIndex(BY_CONTROLLER_UID, owner.metadata.uid!)) byKey.set(object.metadata.name!, object);
  if (selector.length > 0) for (const object of informer.lister.list(owner.metadata.namespace, selector)) byKey.set(object.metadata.name!, object);
  return [...byKey.values()];
}

/**
 * The dependents the owner controls after adopting and releasing (ClaimObjects). Returned objects
 * are the cache's, or the API's answer for those just adopted; never modify them.
 */
export async function claimObjects(options: ClaimOptions): Promise<Obj[]> {
  const { client, type, owner, ownerType, selector, adoptFinalizers = [] } = options;
  const ownerDeleting = owner.metadata.deletionTimestamp !== undefined;
  // Before the first adoption, a fresh read confirms the owner is still there and not being
  // deleted (upstream's RecheckDeletionTimestamp): the cache may not show a deletion yet.
  let recheck: Promise<void> | undefined;
  const canAdopt = () => (recheck ??= recheckOwner(client, owner, ownerType));
  const claimed: Obj[] = [];
  for (const object of options.candidates) {
    const ref = controllerOf(object);
    const matches = matchesLabels(selector, object.metadata.labels) && (options.filter?.(object) ?? true);
    if (ref) {
      if (ref.uid !== owner.metadata.uid) continue;
      // An owner being deleted keeps what it has; its dependents go with it.
      if (matches || ownerDeleting) {
        claimed.push(object);
        continue;
      }
      if (object.metadata.deletionTimestamp) continue;
      await release(client, type, object, owner);
      continue;
    }
    if (!matches || ownerDeleting || object.metadata.deletionTimestamp) continue;
    await canAdopt();
    const adopted = await adopt(client, type, object, owner, ownerType, adoptFinalizers);
    if (adopted) claimed.push(adopted);
  }
  return claimed;
}

async function recheckOwner(client: ApiClient, owner: Obj, ownerType: ResourceType): Promise<void> {
  const { namespace, name, uid } = owner.metadata;
  const fresh = await client.get(ownerType, namespace, name!);
  if (fresh.metadata.uid !== uid) throw new Error(`original ${namespace}/${name} is gone: got uid ${fresh.metadata.uid}, wanted ${uid}`);
  if (fresh.metadata.deletionTimestamp) throw new Error(`${namespace}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
}

// Adoption and release are strategic merge patches pinned to the object's uid, as upstream's
// ControllerRefManager sends them: RBAC grants controllers `patch` on what they adopt, not `update`.
async function adopt(client: ApiClient, type: ResourceType, object: Obj, owner: Obj, ownerType: ResourceType, finalizers: readonly string[]): Promise<Obj | undefined> {
  const metadata: Obj['metadata'] & Record<string, unknown> = { uid: object.metadata.uid, ownerReferences: [newControllerRef(owner, ownerType)] };
  const missing = finalizers.filter((f) => !(object.metadata.finalizers ?? []).includes(f));
  if (missing.length > 0) metadata.finalizers = missing;
  try {
    const adopted = await client.patch(type, object.metadata.namespace, object.metadata.name!, 'strategic', { metadata });
    // Someone else may have adopted it since the cache saw it: only one controller reference counts.
    const controllers = (adopted.metadata.ownerReferences ?? []).filter((r) => r.controller === true);
    if (controllers.length !== 1 || controllers[0].uid !== owner.metadata.uid) return undefined;
    return adopted;
  } catch (error) {
    // Gone, replaced (uid), or already another controller's (two controller references are invalid).
    if (error instanceof ApiError && (error.code === 404 || error.code === 409 || error.code === 422)) return undefined;
    throw error;
  }
}

async function release(client: ApiClient, type: ResourceType, object: Obj, owner: Obj): Promise<void> {
  try {
    // A JSON patch whose tests pin the object and the reference: RBAC grants controllers `patch`,
    // not `update`; no references left, the field goes (upstream's patch leaves it out, omitempty).
    const references = object.metadata.ownerReferences ?? [];
    const index = references.findIndex((r) => r.uid === owner.metadata.uid);
    if (index < 0) return;
    const tests = [{ op: 'test', path: '/metadata/uid', value: object.metadata.uid }, { op: 'test', path: '/metadata/ownerReferences', value: references }];
    const removal = references.length === 1 ? { op: 'remove', path: '/metadata/ownerReferences' } : { op: 'remove', path: `/metadata/ownerReferences/${index}` };
    await client.patch(type, object.metadata.namespace, object.metadata.name!, 'json', [...tests, removal]);
  } catch (error) {
    // Changed since the cache saw it (a failed test): the next sync looks again.
    if (error instanceof ApiError && (error.code === 409 || error.code === 422)) return;
    if (!(error instanceof ApiError && error.code === 404)) throw error;
  }
}

/** Enqueues the controller of `object` if it is of `ownerType` (handlers for dependents' events). */
export function ownerKeyOf(object: Obj, ownerType: ResourceType): string | undefined {
  const ref = controllerOf(object);
  if (!ref || ref.kind !== ownerType.kind || ref.apiVersion !== apiVersionOfType(ownerType)) return undefined;
  return `${object.metadata.namespace}/${ref.name}`;
}

/** Ignores a 404 (the object is already gone), rethrows everything else. */
export function ignoreNotFound(error: unknown): undefined {
  if (error instanceof ApiError && error.code === 404) return undefined;
  throw error;
}
