/**
 * How PersistentVolumeClaims and PersistentVolumes pair up (upstream's pv controller util and
 * scheduler volume binder share these rules): the annotations both sides write, the claim's and
 * volume's class, whether a volume is (pre-)bound to a claim, whether its node affinity admits a
 * node, and the smallest available volume that satisfies a claim. The scheduler's VolumeBinding
 * plugin and the PV binder controller both use this module, so they agree on what "matches" means.
 */
import { compare, quantity } from '../admission/quantity.js';
import { nodeSelectorMatches } from './node-affinity.js';
import { matchesLabels, selectorFromSpec } from './selectors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

/** Set by the scheduler on a WaitForFirstConsumer claim to provision: the node it chose. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
/** Set by the PV controller once both halves of a binding are written. */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** Set by whoever bound on the user's behalf (PV controller or scheduler). */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** The provisioner expected to create a volume for the claim. */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** A StorageClass whose volumes are created by hand (local volumes): nothing provisions. */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

/** The claim's class: spec.storageClassName, else the beta annotation, else "". */
export function claimClass(claim: Fields): string {
  return claim.spec?.storageClassName ?? claim.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
}

export function volumeClass(volume: Fields): string {
  return volume.spec?.storageClassName ?? volume.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
}

/** Whether the claim waits for a pod to be scheduled before binding (its class says WaitForFirstConsumer). */
export function isDelayedBinding(storageClass: Fields | undefined): boolean {
  return storageClass?.volumeBindingMode === 'WaitForFirstConsumer';
}

/** The volume's claimRef names this claim (and, when it carries a uid, this very claim). */
export function isVolumeBoundToClaim(volume: Fields, claim: Fields): boolean {
  const ref = volume.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || (ref.namespace ?? '') !== (claim.metadata.namespace ?? '')) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

/** A claim both halves of whose binding are written. */
export function isClaimFullyBound(claim: Fields): boolean {
  return !!claim.spec?.volumeName && claim.metadata?.annotations?.[ANN_BIND_COMPLETED] !== undefined;
}

/** The volume's required node affinity admits `node` (no affinity admits every node). */
export function volumeNodeAffinityMatches(volume: Fields, node: Fields): boolean {
  const required = volume.spec?.nodeAffinity?.required;
  if (!required) return true;
  return nodeSelectorMatches(required.nodeSelectorTerms ?? [], node);
}

/** Every access mode the claim asks for is one the volume offers. */
function accessModesContained(volume: Fields, claim: Fields): boolean {
  const offered = new Set<string>(volume.spec?.accessModes ?? []);
  return ((claim.spec?.accessModes ?? []) as string[]).every((mode) => offered.has(mode));
}

function capacityOf(volume: Fields): ReturnType<typeof quantity> {
  return quantity(volume.spec?.capacity?.storage ?? 0);
}

/**
 * The volume to bind `claim` to (upstream's FindMatchingVolume): one already pre-bound to it wins;
 * otherwise the smallest unclaimed volume of the same class, volume mode and selector whose
 * capacity and access modes suffice — on `node` when one is given (delayed binding), and not in
 * `excluded` (volumes assumed for other claims). Volumes being deleted, and (for delayed binding)
 * volumes whose node affinity rejects the node, are skipped.
 */
export function findMatchingVolume<V extends Fields>(claim: Fields, volumes: readonly V[], node?: Fields, excluded?: ReadonlySet<string>): V | undefined {
  const requested = quantity(claim.spec?.resources?.requests?.storage ?? 0);
  const className = claimClass(claim);
  const claimMode = claim.spec?.volumeMode ?? 'Filesystem';
  const selector = claim.spec?.selector ? selectorFromSpec(claim.spec.selector) : undefined;
  let best: V | undefined;
  for (const volume of volumes) {
    if (excluded?.has(volume.metadata.name)) continue;
    if ((volume.spec?.volumeMode ?? 'Filesystem') !== claimMode) continue;
    const boundHere = isVolumeBoundToClaim(volume, claim);
    if (volume.spec?.claimRef && !boundHere) continue;
    if (node && !volumeNodeAffinityMatches(volume, node)) continue;
    if (compare(capacityOf(volume), requested) < 0) continue;
    if (boundHere) return volume;
    if (volume.metadata.deletionTimestamp) continue;
    if (volume.status?.phase && volume.status.phase !== 'Available' && volume.status.phase !== 'Pending') continue;
    if (volumeClass(volume) !== className) continue;
    if (selector && !matchesLabels(selector, volume.metadata.labels)) continue;
    if (!accessModesContained(volume, claim)) continue;
    if (!best || compare(capacityOf(volume), capacityOf(best)) < 0) best = volume;
  }
  return best;
}

/** A claimRef naming `claim` (what a binding writes into the volume). */
export function claimRefOf(claim: Fields): Fields {
  return { kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, apiVersion: 'v1', resourceVersion: claim.metadata.resourceVersion };
}

/** Whether the class can provision for a claim on `node` (a provisioner, and allowedTopologies admitting it). */
export function canProvisionOn(storageClass: Fields | undefined, node: Fields): boolean {
  if (!storageClass?.provisioner || storageClass.provisioner === NO_PROVISIONER) return false;
  const topologies = (storageClass.allowedTopologies ?? []) as Fields[];
  if (topologies.length === 0) return true;
  const labels: Record<string, string> = node.metadata?.labels ?? {};
  // A term's expressions are ANDed, terms ORed; each expression lists the allowed values of a label.
  return topologies.some((term) => ((term.matchLabelExpressions ?? []) as Fields[]).every((e) => ((e.values ?? []) as string[]).includes(labels[e.key])));
}
