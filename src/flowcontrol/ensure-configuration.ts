/**
 * Puts the bootstrap flow-control configuration in place at start (upstream's
 * apf-configuration-producer): mandatory objects are created and their spec restored; suggested
 * ones are created when missing and kept current while `apf.kubernetes.io/autoupdate-spec` is
 * "true" (an operator who sets it to "false" keeps their edits).
 */
import { isDeepStrictEqual } from 'node:util';
import { ApiError } from '../api/status.js';
import { deepCopy } from '../api/object.js';
import type { ApiClient } from '../client/api-client.js';
import { FLOW_SCHEMAS, PRIORITY_LEVEL_CONFIGURATIONS, type ResourceType } from '../client/resource-types.js';
import { flowSchemas, priorityLevelConfigurations } from '../registry/flowcontrol.js';
import type { KindStrategy, Obj } from '../registry/strategy.js';
import { AUTOUPDATE_ANNOTATION, MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS, SUGGESTED_FLOW_SCHEMAS, SUGGESTED_PRIORITY_LEVELS } from './bootstrap-configuration.js';

export async function ensureFlowControlConfiguration(client: ApiClient): Promise<void> {
  // Priority levels first, so no FlowSchema points at a level that does not exist yet.
  for (const level of MANDATORY_PRIORITY_LEVELS) await ensure(client, PRIORITY_LEVEL_CONFIGURATIONS, priorityLevelConfigurations, level, true);
  for (const level of SUGGESTED_PRIORITY_LEVELS) await ensure(client, PRIORITY_LEVEL_CONFIGURATIONS, priorityLevelConfigurations, level, false);
  for (const schema of MANDATORY_FLOW_SCHEMAS) await ensure(client, FLOW_SCHEMAS, flowSchemas, schema, true);
  for (const schema of SUGGESTED_FLOW_SCHEMAS) await ensure(client, FLOW_SCHEMAS, flowSchemas, schema, false);
}

async function ensure(client: ApiClient, type: ResourceType, strategy: KindStrategy, bootstrap: Obj, mandatory: boolean): Promise<void> {
  const desired = deepCopy(bootstrap);
  strategy.defaults?.(desired);
  const name = desired.metadata.name!;
  let current: Obj | undefined;
  try {
    current = await client.get(type, undefined, name);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 404)) throw error;
  }
  if (!current) {
    try {
      await client.create(type, undefined, desired);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409)) throw error;
    }
    return;
  }
  const autoUpdate = current.metadata.annotations?.[AUTOUPDATE_ANNOTATION] !== 'false';
  if (!mandatory && !autoUpdate) return;
  if (isDeepStrictEqual(current.spec, desired.spec)) return;
  await client.mutate(type, undefined, name, (live) => ({
    ...live,
    metadata: { ...live.metadata, annotations: { ...live.metadata.annotations, [AUTOUPDATE_ANNOTATION]: mandatory ? 'true' : live.metadata.annotations?.[AUTOUPDATE_ANNOTATION] ?? 'true' } },
    spec: desired.spec,
  }));
}
