/**
 * Merging an applied configuration into the live object (structured-merge-diff's Merge): maps and
 * structs merge per field, map lists per key, sets per value; leaves and atomic values are
 * replaced. A null in the configuration removes the field (the Go types drop nulls upstream).
 * Inputs are not changed; the result may share unchanged subtrees with them.
 */

import { type JsonMap } from '../object.js';
import { setMember } from '../patch/json-values.js';
import { indexItems, itemElement } from './list-items.js';
import { type PathElement } from './path-element.js';
import { fieldSchema, listShape, nodeKind, type ApplySchema } from './schema.js';

export function mergeObjects(live: unknown, config: unknown, schema: ApplySchema | undefined): unknown {
  if (config === undefined) return live;
  if (live === undefined) return config;
  const kind = nodeKind(config, schema);
  if (kind === 'leaf' || kind !== nodeKind(live, schema)) return config;
  return kind === 'map'
    ? mergeMaps(live as JsonMap, config as JsonMap, schema)
    : mergeLists(live as unknown[], config as unknown[], schema);
}

function mergeMaps(live: JsonMap, config: JsonMap, schema: ApplySchema | undefined): JsonMap {
  const out: JsonMap = {};
  for (const [name, value] of Object.entries(live)) setMember(out, name, value);
  for (const [name, value] of Object.entries(config)) {
    if (value === null) {
      delete out[name];
      continue;
    }
    const current = Object.hasOwn(out, name) ? out[name] : undefined;
    setMember(out, name, mergeObjects(current, value, fieldSchema(schema, name)));
  }
  return out;
}

/**
 * Items only in the live list keep their place; items in the configuration come in its order,
 * merged with their live counterpart. A live item the configuration also lists waits for the
 * configuration to reach it, so shared items follow the configuration's order.
 */
function mergeLists(live: unknown[], config: unknown[], schema: ApplySchema | undefined): unknown[] {
  const shape = listShape(schema);
  const itemSchema = schema?.items();
  const liveElements = live.map((item) => itemElement(item, shape, itemSchema));
  const configElements = config.map((item) => itemElement(item, shape, itemSchema));
  const liveByElement = indexItems(live, shape, itemSchema);
  const configByElement = indexItems(config, shape, itemSchema);
  const sharedInConfigOrder = configElements.filter((e) => liveByElement.has(e));
  let nextShared = 0;
  const emitted = new Set<PathElement>();
  const out: unknown[] = [];
  const emitMerged = (element: PathElement): void => {
    emitted.add(element);
    out.push(mergeObjects(liveByElement.get(element), configByElement.get(element), itemSchema));
    if (sharedInConfigOrder[nextShared] === element) nextShared++;
  };

  let l = 0;
  let c = 0;
  while (l < live.length || c < config.length) {
    const liveElement = liveElements[l];
    const configElement = configElements[c];
    if (liveElement !== undefined && configElement !== undefined) {
      if (liveElement === configElement) {
        emitMerged(configElement);
        l++;
        c++;
        continue;
      }
      const waiting = sharedInConfigOrder[nextShared];
      if (configByElement.has(liveElement) && waiting !== undefined && waiting !== liveElement) {
        l++;
        continue;
      }
    }
    if (liveElement !== undefined) {
      if (!configByElement.has(liveElement)) {
        out.push(live[l]);
        l++;
        continue;
      }
      if (emitted.has(liveElement)) {
        l++;
        continue;
      }
    }
    if (configElement !== undefined) {
      if (!emitted.has(configElement)) emitMerged(configElement);
      c++;
    } else {
      l++; // unreachable for keyed lists; guarantees progress whatever the input
    }
  }
  return out;
}
