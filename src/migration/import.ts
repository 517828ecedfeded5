/**
 * Creates a source cluster's objects in a destination, phase by phase (plan.ts), a few at a time
 * within a phase. Custom resources wait for their CRDs to be Established; objects with owner
 * references come last, re-pointed at the owners' new uids; an existing object is skipped, not
 * overwritten.
 */
import { ApiError } from '../api/status.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import { phaseName, phaseOf, withoutClusterIps } from './plan.js';
import type { Progress } from './progress.js';
import { describe, type Skipped, type SourceObject } from './read.js';

const CONCURRENCY = 8;
const CRD_ESTABLISHED_TIMEOUT_MS = 30_000;
const CRDS = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false } as const;

export interface ImportResult {
  imported: string[];
  skipped: Skipped[];
  failed: Array<{ what: string; reason: string }>;
  /** Changes made on the way (a reassigned clusterIP, a dropped owner reference). */
  notes: string[];
}

export async function importObjects(destination: ApiClient, objects: readonly SourceObject[], progress: Progress, options: { dryRun?: boolean } = {}): Promise<ImportResult> {
  const result: ImportResult = { imported: [], skipped: [], failed: [], notes: [] };
  const uids = new Map<string, string>();
  const owned = objects.filter((o) => o.object.metadata.ownerReferences?.length);
  const free = objects.filter((o) => !o.object.metadata.ownerReferences?.length);

  const byPhase = new Map<number, SourceObject[]>();
  for (const item of free) {
    const phase = phaseOf(item.resource);
    byPhase.set(phase, [...(byPhase.get(phase) ?? []), item]);
  }
  for (const [phase, items] of [...byPhase].sort((a, b) => a[0] - b[0])) {
    await inBatches(items, (item) => createOne(destination, item, uids, result, progress, options.dryRun));
    if (items[0].resource.group === CRDS.group && !options.dryRun) await waitEstablished(destination, items, result);
    progress.step(`${options.dryRun ? 'checked' : 'imported'} ${phaseName(phase)}: ${items.length}`);
  }
  if (owned.length > 0) {
    await inBatches(owned, (item) => createOne(destination, repointOwners(item, uids, result), uids, result, progress, options.dryRun));
    progress.step(`${options.dryRun ? 'checked' : 'imported'} objects with owners: ${owned.length}`);
  }
  progress.finish();
  return result;
}

async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

async function createOne(destination: ApiClient, item: SourceObject, uids: Map<string, string>, result: ImportResult, progress: Progress, dryRun = false): Promise<void> {
  const what = describe(item.resource, item.object);
  const namespace = item.resource.namespaced ? item.object.metadata.namespace : undefined;
  try {
    if (dryRun) {
      result.imported.push(what);
      return;
    }
    let created: Obj;
    try {
      created = await destination.create(item.resource, namespace, item.object);
    } catch (error) {
      if (!(isServiceAddressRefused(error) && item.resource.group === '' && item.resource.resource === 'services')) throw error;
      created = await destination.create(item.resource, namespace, withoutClusterIps(item.object));
      result.notes.push(`${what}: clusterIP ${item.object.spec?.clusterIP} is not free or not in the destination's service range; a new one was assigned`);
    }
    if (created.metadata.uid) uids.set(item.sourceUid, created.metadata.uid);
    result.imported.push(what);
  } catch (error) {
    if (error instanceof ApiError && error.code === 409 && error.reason === 'AlreadyExists') {
      result.skipped.push({ what, reason: 'already exists in the destination' });
      const existing = await destination.get(item.resource, namespace, item.object.metadata.name!).catch(() => undefined);
      if (existing?.metadata.uid) uids.set(item.sourceUid, existing.metadata.uid);
    } else {
      result.failed.push({ what, reason: (error as Error).message });
    }
  } finally {
    progress.tick(what);
  }
}

function isServiceAddressRefused(error: unknown): boolean {
  return error instanceof ApiError && (error.code === 422 || error.code === 409) && /clusterIP|ClusterIP|provided IP/.test(error.message);
}

/** Owner references name owners by uid: point them at the copies, drop those whose owner was not imported. */
function repointOwners(item: SourceObject, uids: Map<string, string>, result: ImportResult): SourceObject {
  const refs = (item.object.metadata.ownerReferences ?? []) as Array<{ uid: string; kind: string; name: string }>;
  const kept = [];
  for (const ref of refs) {
    const uid = uids.get(ref.uid);
    if (uid) kept.push({ ...ref, uid });
    else result.notes.push(`${describe(item.resource, item.object)}: owner ${ref.kind} ${ref.name} was not imported; its reference was dropped`);
  }
  const metadata = { ...item.object.metadata };
  if (kept.length > 0) metadata.ownerReferences = kept as typeof metadata.ownerReferences;
  else delete metadata.ownerReferences;
  return { ...item, object: { ...item.object, metadata } };
}

async function waitEstablished(destination: ApiClient, crds: readonly SourceObject[], result: ImportResult): Promise<void> {
  const deadline = Date.now() + CRD_ESTABLISHED_TIMEOUT_MS;
  for (const crd of crds) {
    const name = crd.object.metadata.name!;
    for (;;) {
      const current = await destination.get(CRDS, undefined, name).catch(() => undefined);
      if (current?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) {
        result.notes.push(`CustomResourceDefinition ${name} was not Established within ${CRD_ESTABLISHED_TIMEOUT_MS / 1000}s; its objects may fail`);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
