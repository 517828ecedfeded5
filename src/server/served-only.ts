/** REST answers for the served-but-not-stored core kinds (src/registry/served-only.ts). */
import { errors } from '../api/status.js';
import { bodyFormat, decodeObject, MAX_BODY_BYTES, negotiate } from '../api/negotiation.js';
import { tableJson } from '../api/table.js';
import { bindPod } from '../registry/pod-binding.js';
import type { Registry } from '../registry/registry.js';
import type { KindStrategy, Obj } from '../registry/strategy.js';
import { unstoredObject, type StoredObject } from '../storage/store.js';
import type { Exchange } from './exchange.js';
import type { RequestInfo } from './request-info.js';
import { respondJson } from './responses.js';
import { METRICS_GROUP, ResourceMetrics } from '../nodes/metrics-api.js';

/** The components this process runs in place of separate binaries. */
const COMPONENTS = ['controller-manager', 'scheduler'];

function componentStatus(name: string): Obj {
  return { kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name }, conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] };
}

const DEPRECATION = 'v1 ComponentStatus is deprecated in v1.19+';

export function isServedOnly(strategy: KindStrategy): boolean {
  return (strategy.group === '' && (strategy.kind === 'Binding' || strategy.kind === 'ComponentStatus')) || strategy.group === METRICS_GROUP;
}

export async function handleServedOnly(ex: Exchange, info: RequestInfo, query: URLSearchParams, strategy: KindStrategy, registry: Registry): Promise<void> {
  if (!(strategy.verbs ?? []).includes(info.verb)) throw errors.methodNotAllowed(ex.method, info.path);
  if (strategy.group === METRICS_GROUP) {
    const selectors = { labelSelector: query.get('labelSelector') ?? undefined, fieldSelector: query.get('fieldSelector') ?? undefined };
    return respondJson(ex, 200, JSON.stringify(new ResourceMetrics(registry).answer(strategy.plural, info.namespace, info.name, selectors)));
  }
  if (strategy.kind === 'Binding') {
    const binding = decodeObject(await ex.readBody(MAX_BODY_BYTES), bodyFormat(ex.header('content-type'))) as Obj;
    const name = binding.metadata?.name;
    if (!name) throw errors.badRequest('name is required for a Binding');
    await bindPod(registry.of('', 'pods'), info.namespace, name, binding, { dryRun: query.getAll('dryRun').includes('All'), user: ex.user });
    return respondJson(ex, 201, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
  }
  (ex.warnings ??= []).push(DEPRECATION);
  const stored = (object: Obj): StoredObject => unstoredObject(object, 0);
  const table = negotiate(ex.header('accept'), ['object', 'table', 'partialMetadata']) === 'table';
  if (info.verb === 'get') {
    if (!COMPONENTS.includes(info.name!)) throw errors.notFound({ group: '', resource: 'componentstatuses' }, info.name!);
    const item = stored(componentStatus(info.name!));
    if (table) return respondJson(ex, 200, tableJson(strategy, [item], { resourceVersion: '' }, 'None'), 'application/json;as=Table;v=v1;g=meta.k8s.io');
    return respondJson(ex, 200, item.json);
  }
  const items = COMPONENTS.map((name) => stored(componentStatus(name)));
  if (table) return respondJson(ex, 200, tableJson(strategy, items, { resourceVersion: '' }, 'None'), 'application/json;as=Table;v=v1;g=meta.k8s.io');
  respondJson(ex, 200, JSON.stringify({ kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items: items.map((i) => i.object) }));
}
