/**
 * A StatefulSet pod's stable identity: its name `<set>-<ordinal>`, the labels naming it and its
 * index, its hostname and subdomain, and its claims `<template>-<set>-<ordinal>`; and who owns
 * those claims under the set's persistentVolumeClaimRetentionPolicy.
 */
import type { OwnerReference } from '../../api/object.js';
import type { Obj } from '../../client/api-client.js';
import { PODS, STATEFUL_SETS, type ResourceType } from '../../client/resource-types.js';
import { newControllerRef } from '../controller-ref.js';
import { POD_REVISION_LABEL } from '../history.js';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

const NAME_AND_ORDINAL = /^(.*)-([0-9]+)$/;

function parse(pod: Obj): { parent: string; ordinal: number } | undefined {
  const match = NAME_AND_ORDINAL.exec(pod.metadata.name ?? '');
  if (!match) return undefined;
  const ordinal = Number(match[2]);
  return Number.isSafeInteger(ordinal) ? { parent: match[1], ordinal } : undefined;
}

/** The pod's ordinal, or -1 when its name carries none. */
export function ordinalOf(pod: Obj): number {
  return parse(pod)?.ordinal ?? -1;
}

/** Whether the pod is named as one of the set's. */
export function isMemberOf(set: Obj, pod: Obj): boolean {
  return parse(pod)?.parent === set.metadata.name;
}

export function startOrdinal(set: Obj): number {
  return set.spec?.ordinals?.start ?? 0;
}

export function replicasOf(set: Obj): number {
  return set.spec?.replicas ?? 1;
}

export function podInOrdinalRange(pod: Obj, set: Obj): boolean {
  const ordinal = ordinalOf(pod);
  return ordinal >= startOrdinal(set) && ordinal < startOrdinal(set) + replicasOf(set);
}

export function podName(set: Obj, ordinal: number): string {
  return `${set.metadata.name}-${ordinal}`;
}

export function claimName(set: Obj, template: string, ordinal: number): string {
  return `${template}-${set.metadata.name}-${ordinal}`;
}

function claimTemplates(set: Obj): Obj[] {
  return Array.isArray(set.spec?.volumeClaimTemplates) ? set.spec.volumeClaimTemplates : [];
}

/** The claims a pod of this ordinal mounts, keyed by template name, each labelled with the set's matchLabels. */
export function claimsFor(set: Obj, ordinal: number): Map<string, Obj> {
  const claims = new Map<string, Obj>();
  for (const template of claimTemplates(set)) {
    const claim = structuredClone(template);
    const name = template.metadata?.name ?? '';
    claim.apiVersion = 'v1';
    claim.kind = 'PersistentVolumeClaim';
    claim.metadata = { ...claim.metadata, name: claimName(set, name, ordinal), namespace: set.metadata.namespace, labels: { ...(claim.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) } };
    // What the server fills in on a claim is not part of the request.
    delete claim.status;
    claims.set(name, claim);
  }
  return claims;
}

/** The set's pod of `ordinal` at the revision `revisionName` (newStatefulSetPod + setPodRevision). */
export function newStatefulSetPod(set: Obj, ordinal: number, revisionName: string): Obj {
  const template = set.spec?.template ?? {};
  const name = podName(set, ordinal);
  const spec = structuredClone(template.spec ?? {});
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const claims = claimsFor(set, ordinal);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const volumes: Record<string, any>[] = [...claims].map(([volume, claim]) => ({ name: volume, persistentVolumeClaim: { claimName: claim.metadata.name } }));
  for (const volume of (spec.volumes ?? []) as Record<string, any>[]) if (!claims.has(volume.name)) volumes.push(volume);
  if (volumes.length > 0) spec.volumes = volumes;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [POD_REVISION_LABEL]: revisionName },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ...(template.metadata?.finalizers ? { finalizers: [...template.metadata.finalizers] } : {}),
      ownerReferences: [newControllerRef(set, STATEFUL_SETS)],
    },
    spec,
  };
}

export function identityMatches(set: Obj, pod: Obj): boolean {
  const ordinal = ordinalOf(pod);
  return ordinal >= 0 && isMemberOf(set, pod) && pod.metadata.namespace === set.metadata.namespace && pod.metadata.labels?.[POD_NAME_LABEL] === pod.metadata.name && pod.metadata.labels?.[POD_INDEX_LABEL] === String(ordinal);
}

export function storageMatches(set: Obj, pod: Obj): boolean {
  const volumes = new Map<string, Obj>(((pod.spec?.volumes ?? []) as Obj[]).map((v) => [v.name, v]));
  for (const [name, claim] of claimsFor(set, ordinalOf(pod))) {
    if (volumes.get(name)?.persistentVolumeClaim?.claimName !== claim.metadata.name) return false;
  }
  return true;
}

function refersTo(ref: OwnerReference, object: Obj, type: ResourceType): boolean {
  return ref.kind === type.kind && ref.name === object.metadata.name && (type.group === '' ? ref.apiVersion === 'v1' : ref.apiVersion.startsWith(`${type.group}/`));
}

/**
 * The claim's owner references under the retention policy (updateClaimOwnerRefForSetAndPod):
 * whenDeleted=Delete makes the set the claim's controller; whenScaled=Delete makes a pod beyond
 * the replicas its controller, so the garbage collector removes the claim with it. Undefined
 * when nothing needs to change.
 */
export function retentionOwnerRefs(claim: Obj, set: Obj, pod: Obj): OwnerReference[] | undefined {
  const refs: OwnerReference[] = claim.metadata.ownerReferences ?? [];
  // A claim once managed by an older incarnation of the set or pod is left alone.
  const stale = refs.some((r) => (refersTo(r, set, STATEFUL_SETS) && r.uid !== set.metadata.uid) || (refersTo(r, pod, PODS) && r.uid !== pod.metadata.uid));
  if (stale) return undefined;
  const ours = (r: OwnerReference) => r.uid === set.metadata.uid || r.uid === pod.metadata.uid;
  const others = refs.filter((r) => !ours(r));
  const unexpectedController = others.some((r) => r.controller === true);
  const wanted: OwnerReference[] = [...others];
  if (!unexpectedController) {
    const policy = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
    const scaledDown = !podInOrdinalRange(pod, set);
    if (policy.whenScaled === 'Delete' && scaledDown) wanted.push(newControllerRef(pod, PODS));
    else if (policy.whenDeleted === 'Delete') wanted.push(newControllerRef(set, STATEFUL_SETS));
  }
  const key = (r: OwnerReference) => `${r.uid}/${r.controller === true}`;
  const same = refs.length === wanted.length && refs.every((r) => wanted.some((w) => key(w) === key(r)));
  return same ? undefined : wanted;
}
