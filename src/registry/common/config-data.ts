/** Rules ConfigMap and Secret share: key syntax, the 1 MiB limit and `immutable`. */
import { fieldErrors, type FieldError } from '../../api/status.js';
import { isPlainObject, jsonEqual } from '../../api/object.js';
import type { Obj } from '../strategy.js';
import { configKeyErrors } from './validation.js';
import type { Fields } from './fields.js';

/** Upstream's MaxSecretSize, also the ConfigMap limit. */
export const MAX_DATA_BYTES = 1024 * 1024;

export function validateDataKeys(data: unknown, field: string): FieldError[] {
  if (data === undefined || data === null) return [];
  if (!isPlainObject(data)) return [fieldErrors.typeInvalid(field, data, 'must be a map of string keys to values')];
  const errs: FieldError[] = [];
  for (const [key, value] of Object.entries(data)) {
    for (const p of configKeyErrors(key)) errs.push(fieldErrors.invalid(`${field}[${key}]`, key, p));
    if (typeof value !== 'string') errs.push(fieldErrors.typeInvalid(`${field}[${key}]`, value, 'must be a string'));
  }
  return errs;
}

/** Once `immutable: true`, neither the flag nor the listed data fields may change. */
export function validateImmutableData(object: Fields, old: Obj, dataFields: readonly string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (object.immutable !== true) errs.push(fieldErrors.forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const field of dataFields) {
    if (!jsonEqual(object[field] ?? {}, old[field] ?? {})) errs.push(fieldErrors.forbidden(field, 'field is immutable when `immutable` is set'));
  }
  return errs;
}
