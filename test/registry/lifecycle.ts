/**
 * Drives a strategy the way the generic store does (defaults, prepare, validate), so each kind
 * can be tested on its own with realistic objects.
 */
import { randomUUID } from 'node:crypto';
import type { FieldError } from '../../src/api/status.js';
import type { KindStrategy, Obj } from '../../src/registry/strategy.js';

export interface Outcome {
  object: Obj;
  errors: FieldError[];
}

export function create(strategy: KindStrategy, input: Record<string, unknown>): Outcome {
  const object = structuredClone(input) as Obj;
  object.metadata ??= {};
  object.metadata.uid ??= randomUUID();
  object.metadata.creationTimestamp ??= ago(CREATED_SECONDS_AGO);
  if (strategy.generation) object.metadata.generation = 1;
  strategy.defaults?.(object);
  strategy.prepareForCreate?.(object);
  return { object, errors: strategy.validate?.(object) ?? [] };
}

/** An update of `old` to `input` through the main resource (status kept, as the store does). */
export function update(strategy: KindStrategy, old: Obj, input: Record<string, unknown>): Outcome {
  const object = structuredClone(input) as Obj;
  object.metadata = { ...old.metadata, ...(object.metadata ?? {}) };
  if (strategy.statusSubresource) object.status = structuredClone(old.status);
  strategy.defaults?.(object);
  strategy.prepareForUpdate?.(object, old);
  return { object, errors: strategy.validate?.(object, old) ?? [] };
}

/** Creates and insists the object is valid. */
export function created(strategy: KindStrategy, input: Record<string, unknown>): Obj {
  const { object, errors } = create(strategy, input);
  if (errors.length > 0) throw new Error(`unexpected validation errors: ${JSON.stringify(errors)}`);
  return object;
}

export function fields(errors: FieldError[]): string[] {
  return errors.map((e) => e.field);
}

/** The row kubectl would print: column name -> cell, wide columns included. */
export function row(strategy: KindStrategy, object: Obj): Record<string, unknown> {
  return Object.fromEntries(strategy.columns.map((c) => [c.name, c.cell(object)]));
}

/**
 * Objects are created 15m30s in the past, so their AGE reads "15m" however slowly a test runs
 * (ages near a unit boundary, such as "0s" or "65s", would flake on a loaded machine).
 */
const CREATED_SECONDS_AGO = 15 * 60 + 30;
export const CREATED_AGE = '15m';

/** A timestamp `seconds` ago, as stored objects carry them. */
export function ago(seconds: number): string {
  return new Date(Date.now() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function meta(name: string, namespace?: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return namespace === undefined ? { name, ...extra } : { name, namespace, ...extra };
}

export const container = { name: 'web', image: 'nginx:1.27' };

export function podTemplate(labels: Record<string, string>, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return { metadata: { labels }, spec: { containers: [container], ...spec } };
}
