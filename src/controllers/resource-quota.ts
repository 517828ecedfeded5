/**
 * The resource quota controller (upstream's resourcequota_controller): keeps each
 * ResourceQuota's status — `hard` mirrors spec.hard, `used` is recounted from what the
 * namespace holds, with the same evaluators admission charges with. Admission charges creates
 * as they happen; this controller recounts when a quota's limits change, when usage is released
 * (an object deleted, a pod finished, a claim shrunk) and on a full resync every 5 minutes.
 */
import { jsonEqual } from '../api/object.js';
import type { Obj } from '../client/api-client.js';
import type { SharedInformer } from '../client/informer.js';
import * as resourceTypes from '../client/resource-types.js';
import { RESOURCE_QUOTAS, type ResourceType } from '../client/resource-types.js';
import { add, format, ZERO, type Quantity } from '../admission/quantity.js';
import { countedResource, inScope, tracks, usageOf } from '../admission/resource-quota/usage.js';
import type { ControllerDefinition } from './manager.js';
import { keyOf, startReconciler } from './reconciler.js';

const FULL_RESYNC_MS = 5 * 60_000;

const KNOWN_TYPES: ResourceType[] = Object.values(resourceTypes).filter(
  (value): value is ResourceType => typeof value === 'object' && value !== null && 'resource' in value && 'kind' in value && (value as ResourceType).namespaced,
);

function typeOf(group: string, plural: string): ResourceType | undefined {
  return KNOWN_TYPES.find((t) => t.group === group && t.resource === plural);
}

/** The kinds a quota's resource names concern. */
function concernedTypes(hard: Record<string, unknown>): ResourceType[] {
  const found = new Set<ResourceType>();
  for (const name of Object.keys(hard)) {
    const counted = countedResource(name);
    const type = counted ? typeOf(counted.group, counted.plural) : undefined;
    if (type) found.add(type);
    for (const plural of ['pods', 'persistentvolumeclaims', 'services']) if (tracks('', plural, name)) found.add(typeOf('', plural)!);
  }
  return [...found];
}

export const resourceQuotaController: ControllerDefinition = {
  name: 'resourcequota-controller',
  aliases: ['resourcequota'],
  serviceAccount: 'resourcequota-controller',
  workersFlag: { name: 'concurrent-resource-quota-syncs', default: 5 },
  async start(context) {
    const quotas = context.informers.informer(RESOURCE_QUOTAS);
    const queue = context.newQueue('resourcequota');
    const watched = new Map<ResourceType, SharedInformer>();
    const handlers: Array<{ remove(): void }> = [];
    const enqueueNamespace = (namespace: string | undefined) => {
      if (!namespace) return;
      for (const quota of quotas.lister.list(namespace)) queue.add(keyOf(quota));
    };
    /** Watches a kind a quota counts: releases (deletes, usage going down) trigger a recount. */
    const watch = (type: ResourceType): SharedInformer => {
      let informer = watched.get(type);
      if (informer) return informer;
      informer = context.informers.informer(type);
      watched.set(type, informer);
      handlers.push(
        informer.addEventHandler({
          onUpdate: (old, now) => {
            // Most namespaces have no quota: nothing to recount, and no usage to work out twice per write.
            if (quotas.lister.list(now.metadata.namespace).length === 0) return;
            const before = usageOf(type.group, type.resource, old);
            const after = usageOf(type.group, type.resource, now);
            if (!jsonEqual([...before].map(([k, v]) => [k, format(v)]), [...after].map(([k, v]) => [k, format(v)]))) enqueueNamespace(now.metadata.namespace);
          },
          onDelete: (object) => enqueueNamespace(object.metadata.namespace),
        }),
      );
      return informer;
    };
    for (const plural of ['pods', 'services', 'persistentvolumeclaims']) watch(typeOf('', plural)!);
    handlers.push(
      quotas.addEventHandler({
        onAdd: (quota) => queue.add(keyOf(quota)),
        onUpdate: (old, quota) => {
          if (!jsonEqual(old.spec, quota.spec) || !jsonEqual(quota.spec?.hard ?? {}, quota.status?.hard ?? {})) queue.add(keyOf(quota));
        },
      }),
    );

    async function reconcile(key: string) {
      const [namespace, name] = key.split('/');
      const quota = quotas.lister.get(namespace, name);
      if (!quota) return;
      const hard: Record<string, string> = quota.spec?.hard ?? {};
      const used = new Map<string, Quantity>(Object.keys(hard).map((n) => [n, ZERO]));
      for (const type of concernedTypes(hard)) {
        const informer = watch(type);
        await informer.start();
        for (const object of informer.lister.list(namespace) as Obj[]) {
          if (!inScope(quota, type.group, type.resource, object)) continue;
          for (const [n, value] of usageOf(type.group, type.resource, object)) if (used.has(n)) used.set(n, add(used.get(n)!, value));
        }
      }
      const status = { hard: { ...hard }, used: Object.fromEntries([...used].map(([n, q]) => [n, format(q)])) };
      if (jsonEqual(quota.status ?? {}, status)) return;
      await context.client.update(RESOURCE_QUOTAS, namespace, name, { ...quota, status }, { subresource: 'status' });
    }

    const resync = setInterval(() => {
      for (const quota of quotas.lister.list()) queue.add(keyOf(quota));
    }, FULL_RESYNC_MS);
    resync.unref();
    return startReconciler({ context, queue, informers: [quotas, ...watched.values()], reconcile, handlers, onStop: () => clearInterval(resync) });
  },
};
