/**
 * The namespace controller: when a namespace is being deleted, delete everything in it, of every
 * served namespaced resource, then remove the "kubernetes" finalizer so the namespace itself goes
 * (upstream's namespaced-resources deleter).
 */
import { ApiError } from '../api/status.js';
import { KUBERNETES_FINALIZER } from '../registry/namespaces.js';
import { NAMESPACES } from '../client/resource-types.js';
import type { ControllerDefinition } from './manager.js';
import { keyOf, startReconciler } from './reconciler.js';

/** How soon a namespace still holding objects (waiting on their own finalizers) is looked at again. */
const RECHECK_MS = 1000;

export const namespaceController: ControllerDefinition = {
  name: 'namespace-controller',
  aliases: ['namespace'],
  serviceAccount: 'namespace-controller',
  workersFlag: { name: 'concurrent-namespace-syncs', default: 10 },
  async start(context) {
    const { client } = context;
    const namespaces = context.informers.informer(NAMESPACES);
    const queue = context.newQueue('namespace');
    const enqueueIfDeleting = (namespace: { metadata: { deletionTimestamp?: string; name?: string } }) => {
      if (namespace.metadata.deletionTimestamp) queue.add(keyOf(namespace));
    };
    const handler = namespaces.addEventHandler({ onAdd: enqueueIfDeleting, onUpdate: (_old, namespace) => enqueueIfDeleting(namespace) });

    async function reconcile(name: string) {
      const namespace = namespaces.lister.get(undefined, name);
      if (!namespace?.metadata.deletionTimestamp) return;
      const types = (await client.discover()).filter((type) => type.namespaced && type.verbs.includes('delete') && type.verbs.includes('list'));
      let deleted = 0;
      for (const type of types) {
        for (const item of (await client.list(type, name)).items) {
          if (item.metadata.deletionTimestamp) continue;
          try {
            await client.delete(type, name, item.metadata.name!, { propagationPolicy: 'Background' });
            deleted++;
          } catch (error) {
            if (!(error instanceof ApiError && error.code === 404)) throw error;
          }
        }
      }
      // Objects waiting on their own finalizers keep the namespace until they are gone.
      for (const type of types) {
        if ((await client.list(type, name, { limit: 1 })).items.length > 0) return { requeueAfterMs: deleted > 0 ? 0 : RECHECK_MS };
      }
      const finalizers: string[] = namespace.spec?.finalizers ?? [];
      if (!finalizers.includes(KUBERNETES_FINALIZER)) return;
      await client.mutate(
        NAMESPACES,
        undefined,
        name,
        (current) => {
          current.spec = { ...current.spec, finalizers: (current.spec?.finalizers ?? []).filter((f: string) => f !== KUBERNETES_FINALIZER) };
          return current;
        },
        { subresource: 'finalize' },
      );
    }

    return startReconciler({ context, queue, informers: [namespaces], reconcile, handlers: [handler] });
  },
};
