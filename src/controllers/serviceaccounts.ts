/**
 * The service account controller (upstream's serviceaccounts_controller): every active
 * namespace has a `default` ServiceAccount; one deleted is created again.
 */
import { ApiError } from '../api/status.js';
import { NAMESPACES, SERVICE_ACCOUNTS } from '../client/resource-types.js';
import type { ControllerDefinition } from './manager.js';
import { startReconciler } from './reconciler.js';

const DEFAULT_ACCOUNTS = ['default'];

export const serviceAccountController: ControllerDefinition = {
  name: 'serviceaccount-controller',
  aliases: ['serviceaccount'],
  serviceAccount: 'service-account-controller',
  start(context) {
    const namespaces = context.informers.informer(NAMESPACES);
    const accounts = context.informers.informer(SERVICE_ACCOUNTS);
    const queue = context.newQueue('serviceaccount');
    const handlers = [
      namespaces.addEventHandler({ onAdd: (ns) => queue.add(ns.metadata.name!), onUpdate: (_old, ns) => queue.add(ns.metadata.name!) }),
      accounts.addEventHandler({ onDelete: (account) => queue.add(account.metadata.namespace!) }),
    ];

    async function reconcile(name: string) {
      const namespace = namespaces.lister.get(undefined, name);
      // Upstream leaves namespaces that are not Active alone (a terminating one refuses creates anyway).
      if (!namespace || namespace.metadata.deletionTimestamp || (namespace.status?.phase && namespace.status.phase !== 'Active')) return;
      for (const account of DEFAULT_ACCOUNTS) {
        if (accounts.lister.get(name, account)) continue;
        try {
          await context.client.create(SERVICE_ACCOUNTS, name, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: name } });
        } catch (error) {
          // Someone created it first, or the namespace started terminating meanwhile.
          if (error instanceof ApiError && (error.code === 409 || error.code === 403 || error.code === 404)) continue;
          throw error;
        }
      }
    }

    return startReconciler({ context, queue, informers: [namespaces, accounts], reconcile, handlers });
  },
};
