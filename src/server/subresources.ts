/** Subresources with a shape of their own: /scale (autoscaling/v1 Scale) and pods/binding. */
import { errors } from '../api/status.js';
import { getPath } from '../api/object.js';
import { bindPod } from '../registry/pod-binding.js';
import { evictPod } from '../registry/pod-eviction.js';
import type { Registry } from '../registry/registry.js';
import { bodyFormat, decodeBody, decodeObject, MAX_BODY_BYTES } from '../api/negotiation.js';
import { applyJsonPatch } from '../api/patch/json-patch.js';
import { applyMergePatch } from '../api/patch/merge-patch.js';
import { applyScale, toScale } from '../registry/scale.js';
import type { GenericStore } from '../registry/generic-store.js';
import type { KindStrategy, Obj } from '../registry/strategy.js';
import type { Exchange } from './exchange.js';
import type { RequestInfo } from './request-info.js';
import { respondJson } from './responses.js';
import type { KubeletConnector } from './kubelet-proxy.js';

export interface Subresource {
  supports(strategy: KindStrategy): boolean;
  handle(ex: Exchange, info: RequestInfo, query: URLSearchParams, generic: GenericStore, namespace: string | undefined, context?: { kubelet?: KubeletConnector; registry?: Registry }): Promise<void> | void;
}

export const scaleSubresource: Subresource = {
  supports: (strategy) => strategy.scale !== undefined,
  async handle(ex, info, query, generic, namespace) {
    const name = info.name!;
    if (info.verb === 'get') return respondJson(ex, 200, JSON.stringify(toScale(generic.strategy, generic.get(namespace, name).object as Obj)));
    if (info.verb !== 'update' && info.verb !== 'patch') throw errors.methodNotAllowed(ex.method, info.path);
    const format = bodyFormat(ex.header('content-type'));
    const body = await ex.readBody(MAX_BODY_BYTES);
    const dryRun = query.getAll('dryRun').includes('All');
    const stored = await generic.guaranteedUpdate(
      namespace,
      name,
      (current) => {
        const currentScale = toScale(generic.strategy, current);
        let scale: Record<string, unknown>;
        if (info.verb === 'update') scale = decodeObject(body, format);
        else if (format === 'json-patch') scale = applyJsonPatch(currentScale, decodeBody(body, format)) as Record<string, unknown>;
        else scale = applyMergePatch(currentScale, decodeBody(body, format)) as Record<string, unknown>;
        const replicas = getPath(scale, 'spec.replicas');
        const precondition = getPath(scale, 'metadata.resourceVersion');
        if (typeof precondition === 'string' && precondition !== '' && precondition !== current.metadata.resourceVersion) {
          throw errors.conflict(generic.ref, name, 'the object has been modified; please apply your changes to the latest version and try again');
        }
        return applyScale(generic.strategy, current, replicas, name);
      },
      { dryRun, user: ex.user, warnings: (ex.warnings ??= []) },
    );
    respondJson(ex, 200, JSON.stringify(toScale(generic.strategy, stored.object as Obj)));
  },
};

/** POST pods/{name}/binding: assigns a node once (what the scheduler calls). */
export const bindingSubresource: Subresource = {
  supports: (strategy) => strategy.kind === 'Pod' && strategy.group === '',
  async handle(ex, info, query, generic, namespace) {
    if (info.verb !== 'create') throw errors.methodNotAllowed(ex.method, info.path);
    const binding = decodeObject(await ex.readBody(MAX_BODY_BYTES), bodyFormat(ex.header('content-type'))) as Obj;
    await bindPod(generic, namespace, info.name!, binding, { dryRun: query.getAll('dryRun').includes('All'), user: ex.user });
    respondJson(ex, 201, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
  },
};

/** POST pods/{name}/eviction: deletes the pod if its PodDisruptionBudget allows (kubectl drain). */
export const evictionSubresource: Subresource = {
  supports: (strategy) => strategy.kind === 'Pod' && strategy.group === '',
  async handle(ex, info, query, _generic, namespace, context) {
    if (info.verb !== 'create') throw errors.methodNotAllowed(ex.method, info.path);
    const registry = context?.registry;
    if (!registry) throw errors.pathNotFound();
    const eviction = decodeObject(await ex.readBody(MAX_BODY_BYTES), bodyFormat(ex.header('content-type'))) as Obj;
    await evictPod(registry, namespace!, info.name!, eviction, { dryRun: query.getAll('dryRun').includes('All'), user: ex.user, warnings: (ex.warnings ??= []) });
    respondJson(ex, 201, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
  },
};
