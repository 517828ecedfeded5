/**
 * The apiextensions-apiserver's controllers, in process: for each CustomResourceDefinition,
 * accept its names (or report the conflict), serve its versions through the registry and mark
 * it Established; when it is deleted, delete every custom resource it defines, drop the
 * customresourcecleanup finalizer, and stop serving it.
 */
import { ApiError } from '../api/status.js';
import type { InformerFactory } from '../client/informer-factory.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import { CUSTOM_RESOURCE_DEFINITIONS } from '../client/resource-types.js';
import { WorkQueue } from '../client/work-queue.js';
import type { Registry } from '../registry/registry.js';
import { CRD_CLEANUP_FINALIZER, setCondition } from '../registry/custom-resource-definitions.js';
import { log } from '../server/log.js';
import { customResourceStrategy, type CustomResourceDefinitionLike } from './custom-resource-strategy.js';

export interface CrdControllerOptions {
  registry: Registry;
  client: ApiClient;
  informers: InformerFactory;
}

export interface RunningCrdController {
  stop(): Promise<void>;
}

const RECHECK_MS = 500;

/** The names a CRD claims, as "<group>/<resource|kind>/<value>", with the reason a clash is reported under. */
function claims(crd: Obj): Array<{ claim: string; reason: string }> {
  const { group, names } = crd.spec ?? {};
  if (!names) return [];
  return [
    { claim: `${group}/resource/${names.plural}`, reason: 'PluralConflict' },
    ...(names.singular ? [{ claim: `${group}/resource/${names.singular}`, reason: 'SingularConflict' }] : []),
    ...(names.shortNames ?? []).map((s: string) => ({ claim: `${group}/resource/${s}`, reason: 'ShortNamesConflict' })),
    { claim: `${group}/kind/${names.kind}`, reason: 'KindConflict' },
    ...(names.listKind ? [{ claim: `${group}/kind/${names.listKind}`, reason: 'ListKindConflict' }] : []),
  ];
}

export async function startCrdController(options: CrdControllerOptions): Promise<RunningCrdController> {
  const { registry, client } = options;
  const crds = options.informers.informer(CUSTOM_RESOURCE_DEFINITIONS);
  const queue = new WorkQueue('crd-autoregistration');
  const handler = crds.addEventHandler({
    onAdd: (crd) => queue.add(crd.metadata.name!),
    onUpdate: (_old, crd) => queue.add(crd.metadata.name!),
    onDelete: (crd) => queue.add(crd.metadata.name!),
  });

  /** Whom a name is already taken by: built-in kinds, and other CRDs' accepted names. */
  function conflictOf(crd: Obj): string | undefined {
    const { group, names } = crd.spec;
    for (const kind of registry.builtInKinds) {
      if (kind.group !== group) continue;
      if (kind.plural === names.plural) return `PluralConflict:"${names.plural}" is already in use`;
      if (kind.kind === names.kind) return `KindConflict:"${names.kind}" is already in use`;
    }
    const mine = claims(crd);
    for (const other of crds.lister.list()) {
      if (other.metadata.name === crd.metadata.name) continue;
      const accepted = other.status?.acceptedNames;
      if (!accepted?.plural) continue;
      const taken = new Set(claims({ metadata: {}, spec: { group: other.spec.group, names: accepted } }).map((c) => c.claim));
      const clash = mine.find((c) => taken.has(c.claim));
      if (clash) return `${clash.reason}:"${clash.claim.split('/').pop()}" is already in use`;
    }
    return undefined;
  }

  async function writeStatus(name: string, change: (crd: Obj) => boolean): Promise<void> {
    await client.mutate(CUSTOM_RESOURCE_DEFINITIONS, undefined, name, (current) => {
      change(current);
      return current;
    }, { subresource: 'status' });
  }

  /** Deletes every custom resource of the definition; true once none is left. */
  async function deleteInstances(crd: CustomResourceDefinitionLike): Promise<boolean> {
    const generic = (() => {
      try {
        return registry.of(crd.spec.group, crd.spec.names.plural);
      } catch {
        return undefined;
      }
    })();
    if (!generic) return true;
    const { items } = generic.list(undefined, {});
    for (const item of items) {
      if (item.object.metadata.deletionTimestamp) continue;
      try {
        await generic.delete(item.object.metadata.namespace, item.object.metadata.name!, {});
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      }
    }
    return generic.list(undefined, { limit: 1 }).items.length === 0;
  }

  async function reconcile(name: string): Promise<void | { requeueAfterMs: number }> {
    const crd = crds.lister.get(undefined, name) as CustomResourceDefinitionLike | undefined;
    if (!crd) {
      registry.uninstall(name);
      return;
    }
    if (crd.metadata.deletionTimestamp) {
      if (!(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) return;
      if (!(await deleteInstances(crd))) return { requeueAfterMs: RECHECK_MS };
      registry.uninstall(name);
      await client.mutate(CUSTOM_RESOURCE_DEFINITIONS, undefined, name, (current) => {
        current.metadata.finalizers = (current.metadata.finalizers ?? []).filter((f: string) => f !== CRD_CLEANUP_FINALIZER);
        return current;
      });
      return;
    }
    const conflict = conflictOf(crd);
    if (conflict) {
      const [reason, message] = [conflict.slice(0, conflict.indexOf(':')), conflict.slice(conflict.indexOf(':') + 1)];
      await writeStatus(name, (current) => {
        const a = setCondition(current, { type: 'NamesAccepted', status: 'False', reason, message });
        const b = setCondition(current, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
        return a || b;
      });
      if (!crd.status?.acceptedNames?.plural) registry.uninstall(name);
      return;
    }
    // Webhook conversion is not carried out here: only the storage version is served then, so no
    // client ever sees an object converted the wrong way.
    const webhookConversion = crd.spec.conversion?.strategy === 'Webhook';
    const served = crd.spec.versions.filter((version) => version.served && (!webhookConversion || version.storage));
    if (webhookConversion && served.length < crd.spec.versions.filter((v) => v.served).length) {
      log.warn('webhook conversion is not supported; serving only the storage version', { crd: name });
    }
    const strategies = served.map((version) => customResourceStrategy(crd, version));
    registry.install(name, strategies);
    const storage = crd.spec.versions.find((version) => version.storage)?.name;
    await writeStatus(name, (current) => {
      current.status ??= {};
      current.status.acceptedNames = { ...crd.spec.names };
      const stored: string[] = current.status.storedVersions ?? [];
      if (storage && !stored.includes(storage)) current.status.storedVersions = [...stored, storage];
      setCondition(current, { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' });
      setCondition(current, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' });
      return true;
    });
  }

  await crds.start();
  // Serve what is already defined before the server reports ready.
  for (const crd of crds.lister.list()) {
    try {
      await reconcile(crd.metadata.name!);
    } catch (error) {
      log.error('custom resource definition not installed', { name: crd.metadata.name, error: (error as Error).message });
    }
  }
  queue.run(2, reconcile);
  return {
    async stop() {
      handler.remove();
      await queue.shutDown();
    },
  };
}
