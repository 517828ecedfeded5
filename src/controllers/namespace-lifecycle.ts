/**
 * The namespace controller: when a namespace is being deleted, delete everything in it, then
 * remove the "kubernetes" finalizer so the namespace itself goes (upstream's namespace deleter).
 */
import { ApiError } from '../api/status.js';
import type { Registry } from '../registry/registry.js';
import { KUBERNETES_FINALIZER } from '../registry/namespaces.js';
import type { Obj } from '../registry/strategy.js';
import { log } from '../server/log.js';
import { WorkQueue } from './work-queue.js';

const RECHECK_MS = 1000;

export function startNamespaceLifecycle(registry: Registry): { stop(): void } {
  const namespaces = registry.of('', 'namespaces');
  const queue = new WorkQueue(reconcile, (key, error) => log.warn('namespace cleanup failed', { namespace: key, error: String(error) }));

  async function reconcile(name: string): Promise<void> {
    const stored = namespaces.tryGet(undefined, name);
    if (!stored || !stored.object.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const kind of registry.kinds) {
      if (!kind.namespaced) continue;
      const generic = registry.of(kind.group, kind.plural);
      for (const item of generic.list(name, {}).items) {
        remaining++;
        if (item.object.metadata.deletionTimestamp) continue;
        try {
          await generic.delete(name, item.object.metadata.name!, { propagationPolicy: 'Background' });
        } catch (error) {
          if (!(error instanceof ApiError && error.code === 404)) throw error;
        }
      }
    }
    // Objects waiting on their own finalizers keep the namespace until they are gone.
    if (remaining > 0 && hasContent(registry, name)) {
      queue.addAfter(name, RECHECK_MS);
      return;
    }
    const finalizers: string[] = (stored.object as Obj).spec?.finalizers ?? [];
    if (!finalizers.includes(KUBERNETES_FINALIZER)) return;
    await namespaces.guaranteedUpdate(
      undefined,
      name,
      (namespace) => {
        namespace.spec.finalizers = finalizers.filter((f) => f !== KUBERNETES_FINALIZER);
        return namespace;
      },
      { subresource: 'finalize' },
    );
  }

  const watcher = namespaces.watch(undefined, { fromRevision: namespaces.visibleRevision }, (event) => {
    if (event.type !== 'DELETED' && event.current.object.metadata.deletionTimestamp) queue.add(event.current.object.metadata.name!);
  });
  for (const item of namespaces.list(undefined, {}).items) {
    if (item.object.metadata.deletionTimestamp) queue.add(item.object.metadata.name!);
  }
  return {
    stop() {
      watcher.close();
      queue.stop();
    },
  };
}

function hasContent(registry: Registry, namespace: string): boolean {
  return registry.kinds.some((kind) => kind.namespaced && registry.of(kind.group, kind.plural).list(namespace, { limit: 1 }).items.length > 0);
}
