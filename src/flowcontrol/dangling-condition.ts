/**
 * The Dangling condition on FlowSchemas (upstream's APF configuration controller, which runs in
 * the API server under its loopback identity): True with reason NotFound while the schema names a
 * PriorityLevelConfiguration that does not exist (such a schema matches nothing), False with
 * reason Found otherwise. Level-triggered over the shared informers and one work queue.
 */
import { nowRfc3339 } from '../api/object.js';
import { ApiError } from '../api/status.js';
import type { ApiClient } from '../client/api-client.js';
import type { InformerFactory } from '../client/informer-factory.js';
import { FLOW_SCHEMAS, PRIORITY_LEVEL_CONFIGURATIONS } from '../client/resource-types.js';
import { WorkQueue } from '../client/work-queue.js';
import type { Obj } from '../registry/strategy.js';

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

export function danglingCondition(schema: Obj, levelExists: boolean): Condition {
  const level = schema.spec?.priorityLevelConfiguration?.name;
  return levelExists
    ? { type: 'Dangling', status: 'False', reason: 'Found', message: 'This FlowSchema references an existing PriorityLevelConfiguration object' }
    : { type: 'Dangling', status: 'True', reason: 'NotFound', message: `This FlowSchema references the PriorityLevelConfiguration object named ${JSON.stringify(level)} but there is no such object` };
}

export async function startDanglingConditions(client: ApiClient, informers: InformerFactory): Promise<{ stop(): Promise<void> }> {
  const schemas = informers.informer(FLOW_SCHEMAS);
  const levels = informers.informer(PRIORITY_LEVEL_CONFIGURATIONS);
  const queue = new WorkQueue('flowschema_dangling');
  const enqueueAll = () => {
    for (const schema of schemas.lister.list()) queue.add(schema.metadata.name!);
  };
  const handlers = [
    schemas.addEventHandler({ onAdd: (schema) => queue.add(schema.metadata.name!), onUpdate: (_old, schema) => queue.add(schema.metadata.name!) }),
    levels.addEventHandler({ onAdd: enqueueAll, onDelete: enqueueAll }),
  ];
  await Promise.all([schemas.start(), levels.start()]);
  enqueueAll();
  queue.run(1, async (name) => {
    const schema = schemas.lister.get(undefined, name);
    if (!schema) return;
    const desired = danglingCondition(schema, levels.lister.get(undefined, schema.spec?.priorityLevelConfiguration?.name ?? '') !== undefined);
    const same = (condition: Condition | undefined) => condition?.status === desired.status && condition.reason === desired.reason && condition.message === desired.message;
    if (same((schema.status?.conditions ?? []).find((condition: Condition) => condition.type === 'Dangling'))) return;
    await client
      .mutate(FLOW_SCHEMAS, undefined, name, (live) => {
        const conditions: Condition[] = live.status?.conditions ?? [];
        const current = conditions.find((condition) => condition.type === 'Dangling');
        if (same(current)) return live;
        live.status = { ...(live.status ?? {}), conditions: [...conditions.filter((condition) => condition.type !== 'Dangling'), { ...desired, lastTransitionTime: nowRfc3339() }] };
        return live;
      }, { subresource: 'status' })
      .catch((error: unknown) => {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      });
  });
  return {
    async stop() {
      for (const handler of handlers) handler.remove();
      await queue.shutDown();
    },
  };
}
