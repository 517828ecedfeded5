/**
 * A CRD's structural schema applied to custom resources, as the apiextensions-apiserver does it,
 * in upstream's order: prune what the schema does not know, fill in defaults, then validate
 * (OpenAPI v3 keywords, then the list/map extensions). Messages are upstream's.
 */
import { fieldErrors, type FieldError } from '../api/status.js';
import { deepCopy, isPlainObject, jsonEqual } from '../api/object.js';
import { re2Test } from '../api/re2.js';

/** apiextensions.k8s.io/v1 JSONSchemaProps, as far as structural schemas use it. */
export interface JSONSchemaProps {
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  allOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/** Fields every object keeps at its root (and embedded resources keep at theirs). */
const TYPE_META_FIELDS = ['apiVersion', 'kind', 'metadata'];

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** The schema of a map's values (properties take precedence over additionalProperties). */
function additional(schema: JSONSchemaProps): JSONSchemaProps | undefined {
  return typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

/**
 * Drops fields the schema does not specify (unless x-kubernetes-preserve-unknown-fields), and
 * returns their paths. `root` keeps apiVersion, kind and metadata.
 */
export function prune(value: unknown, schema: JSONSchemaProps, root = true): string[] {
  const pruned: string[] = [];
  pruneAt(value, schema, '', root, pruned);
  return pruned.sort();
}

function pruneAt(value: unknown, schema: JSONSchemaProps | undefined, path: string, keepTypeMeta: boolean, pruned: string[]): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, index) => pruneAt(item, schema.items, `${path}[${index}]`, !!schema.items?.['x-kubernetes-embedded-resource'], pruned));
    return;
  }
  if (!isPlainObject(value)) return;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const values = additional(schema);
  for (const key of Object.keys(value)) {
    const childPath = join(path, key);
    if (keepTypeMeta && TYPE_META_FIELDS.includes(key)) {
      // metadata is ObjectMeta, checked by the generic store; apiVersion/kind by the decoder.
      if (key !== 'metadata' && schema.properties?.[key]) pruneAt(value[key], schema.properties[key], childPath, false, pruned);
      continue;
    }
    const property = schema.properties?.[key];
    if (property) pruneAt(value[key], property, childPath, !!property['x-kubernetes-embedded-resource'], pruned);
    else if (values) pruneAt(value[key], values, childPath, !!values['x-kubernetes-embedded-resource'], pruned);
    else if (schema.additionalProperties === true || preserve) continue;
    else {
      delete value[key];
      pruned.push(childPath);
    }
  }
}

/** Fills in `default`s of absent (or null, where not nullable) fields, depth first as upstream. */
export function applyDefaults(value: unknown, schema: JSONSchemaProps | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const absent = !(key in value) || (value[key] === null && !property.nullable);
    if (absent && property.default !== undefined) value[key] = deepCopy(property.default);
    if (key in value) applyDefaults(value[key], property);
  }
  const values = additional(schema);
  if (values) for (const key of Object.keys(value)) if (!schema.properties?.[key]) applyDefaults(value[key], values);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(schema: JSONSchemaProps, value: unknown): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
  switch (schema.type) {
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

/** Validates `value` against the schema's OpenAPI keywords and list/map extensions. */
export function validateValue(value: unknown, schema: JSONSchemaProps, path = ''): FieldError[] {
  const errs: FieldError[] = [];
  validateAt(value, schema, path, errs, true);
  return errs;
}

function bodyPath(path: string): string {
  return path === '' ? 'body' : path;
}

function validateAt(value: unknown, schema: JSONSchemaProps, path: string, errs: FieldError[], root: boolean): void {
  if (value === null) {
    if (!schema.nullable && schema.type !== undefined && !schema['x-kubernetes-preserve-unknown-fields'] && !schema['x-kubernetes-int-or-string']) {
      errs.push(fieldErrors.typeInvalid(path, 'null', `${bodyPath(path)} in body must be of type ${schema.type}: "null"`));
    }
    return;
  }
  if (schema.type !== undefined || schema['x-kubernetes-int-or-string']) {
    if (!typeMatches(schema, value)) {
      const expected = schema['x-kubernetes-int-or-string'] ? 'integer,string' : schema.type;
      errs.push(fieldErrors.typeInvalid(path, typeName(value), `${bodyPath(path)} in body must be of type ${expected}: "${typeName(value)}"`));
      return;
    }
  }
  if (schema.enum && !schema.enum.some((allowed) => jsonEqual(allowed, value))) {
    errs.push(fieldErrors.notSupported(path, value, schema.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))));
  }
  if (typeof value === 'number') validateNumber(value, schema, path, errs);
  else if (typeof value === 'string') validateString(value, schema, path, errs);
  else if (Array.isArray(value)) validateArray(value, schema, path, errs);
  else if (isPlainObject(value)) validateObject(value, schema, path, errs, root);
  for (const part of schema.allOf ?? []) validateAt(value, part, path, errs, root);
  if (schema.anyOf && !schema.anyOf.some((part) => validateValue(value, part, path).length === 0)) {
    errs.push(fieldErrors.invalid(path, value, `${bodyPath(path)} in body must be any of the schemas`));
  }
  if (schema.oneOf && schema.oneOf.filter((part) => validateValue(value, part, path).length === 0).length !== 1) {
    errs.push(fieldErrors.invalid(path, value, `${bodyPath(path)} in body must validate one and only one schema (oneOf)`));
  }
  if (schema.not && validateValue(value, schema.not, path).length === 0) {
    errs.push(fieldErrors.invalid(path, value, `${bodyPath(path)} in body should not validate the schema provided`));
  }
}

function validateNumber(value: number, schema: JSONSchemaProps, path: string, errs: FieldError[]): void {
  const at = bodyPath(path);
  if (schema.maximum !== undefined) {
    if (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum) {
      errs.push(fieldErrors.invalid(path, value, `${at} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`));
    }
  }
  if (schema.minimum !== undefined) {
    if (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum) {
      errs.push(fieldErrors.invalid(path, value, `${at} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`));
    }
  }
  if (schema.multipleOf !== undefined && schema.multipleOf !== 0 && Math.abs(value / schema.multipleOf - Math.round(value / schema.multipleOf)) > 1e-9) {
    errs.push(fieldErrors.invalid(path, value, `${at} in body should be a multiple of ${schema.multipleOf}`));
  }
}

function validateString(value: string, schema: JSONSchemaProps, path: string, errs: FieldError[]): void {
  const at = bodyPath(path);
  const length = [...value].length;
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    errs.push({ type: 'FieldValueTooLong', field: path, detail: `Too long: may not be more than ${schema.maxLength} bytes` });
  }
  if (schema.minLength !== undefined && length < schema.minLength) {
    errs.push(fieldErrors.invalid(path, value, `${at} in body should be at least ${schema.minLength} chars long`));
  }
  if (schema.pattern !== undefined) {
    let matches = true;
    try {
      matches = re2Test(schema.pattern, value);
    } catch {
      matches = false;
    }
    if (!matches) errs.push(fieldErrors.invalid(path, value, `${at} in body should match '${schema.pattern}'`));
  }
  const formatError = checkFormat(schema.format, value);
  if (formatError) errs.push(fieldErrors.invalid(path, value, `${at} in body must be of type ${schema.format}: ${JSON.stringify(value)}`));
}

/** The formats upstream checks (others are accepted as plain strings). */
function checkFormat(format: string | undefined, value: string): boolean {
  switch (format) {
    case 'date-time':
      return Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}T/.test(value);
    case 'date':
      return !/^\d{4}-\d{2}-\d{2}$/.test(value);
    case 'uuid':
      return !/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(value);
    case 'ipv4':
      return !/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(value);
    case 'byte':
      return !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0;
    default:
      return false;
  }
}

function validateArray(value: unknown[], schema: JSONSchemaProps, path: string, errs: FieldError[]): void {
  const at = bodyPath(path);
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    errs.push({ type: 'FieldValueTooMany', field: path, detail: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
  }
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    errs.push(fieldErrors.invalid(path, value.length, `${at} in body should have at least ${schema.minItems} items`));
  }
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set' || schema.uniqueItems) {
    const seen: unknown[] = [];
    value.forEach((item, index) => {
      if (seen.some((other) => jsonEqual(other, item))) errs.push(fieldErrors.duplicate(`${path}[${index}]`, item));
      else seen.push(item);
    });
  } else if (listType === 'map') {
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    const seen = new Set<string>();
    value.forEach((item, index) => {
      if (!isPlainObject(item)) return;
      const identity = JSON.stringify(keys.map((key) => item[key] ?? null));
      if (seen.has(identity)) errs.push(fieldErrors.duplicate(`${path}[${index}]`, Object.fromEntries(keys.map((key) => [key, item[key]]))));
      seen.add(identity);
    });
  }
  if (schema.items) value.forEach((item, index) => validateAt(item, schema.items!, `${path}[${index}]`, errs, false));
}

function validateObject(value: Record<string, unknown>, schema: JSONSchemaProps, path: string, errs: FieldError[], root: boolean): void {
  const count = Object.keys(value).length;
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    errs.push({ type: 'FieldValueTooMany', field: path, detail: `Too many: ${count}: must have at most ${schema.maxProperties} items` });
  }
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    errs.push(fieldErrors.invalid(path, count, `${bodyPath(path)} in body should have at least ${schema.minProperties} properties`));
  }
  for (const name of schema.required ?? []) {
    if (value[name] === undefined) errs.push(fieldErrors.required(join(path, name)));
  }
  const values = additional(schema);
  for (const [key, child] of Object.entries(value)) {
    if (root && key === 'metadata') continue;
    const property = schema.properties?.[key] ?? values;
    if (property) validateAt(child, property, join(path, key), errs, false);
  }
}

/**
 * Why a CRD version's schema is not structural (upstream's structural-schema rules, the ones
 * that matter in practice): every specified field has a type, unless it preserves unknown
 * fields or is int-or-string; list-map keys exist and are required or defaulted.
 */
export function structuralErrors(schema: JSONSchemaProps, path: string, root = true): FieldError[] {
  const errs: FieldError[] = [];
  const free = schema['x-kubernetes-preserve-unknown-fields'] || schema['x-kubernetes-int-or-string'];
  if (!schema.type && !free && !root) errs.push(fieldErrors.required(`${path}.type`, 'must not be empty for specified object fields'));
  if (root && schema.type && schema.type !== 'object') errs.push(fieldErrors.invalid(`${path}.type`, schema.type, 'must be object at the root'));
  if (schema.type && !['object', 'array', 'string', 'integer', 'number', 'boolean'].includes(schema.type)) {
    errs.push(fieldErrors.notSupported(`${path}.type`, schema.type, ['array', 'boolean', 'integer', 'number', 'object', 'string']));
  }
  if (schema.type === 'array' && !schema.items) errs.push(fieldErrors.required(`${path}.items`, 'must be specified'));
  if (schema.properties && typeof schema.additionalProperties === 'object') {
    errs.push(fieldErrors.forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
  }
  if (schema['x-kubernetes-list-type'] === 'map') {
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    if (keys.length === 0) errs.push(fieldErrors.required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
    for (const key of keys) {
      const item = schema.items;
      if (item && !item.properties?.[key]) errs.push(fieldErrors.invalid(`${path}.x-kubernetes-list-map-keys`, keys, `entries must all be names of item properties`));
      else if (item && !(item.required ?? []).includes(key) && item.properties?.[key]?.default === undefined) {
        errs.push(fieldErrors.invalid(`${path}.items.properties[${key}]`, key, 'all map keys must be required or have a default value'));
      }
    }
  }
  if (schema.default !== undefined && schema.type === 'object' && !isPlainObject(schema.default)) {
    errs.push(fieldErrors.invalid(`${path}.default`, schema.default, `must be of type object`));
  }
  for (const [key, child] of Object.entries(schema.properties ?? {})) errs.push(...structuralErrors(child, `${path}.properties[${key}]`, false));
  if (schema.items) errs.push(...structuralErrors(schema.items, `${path}.items`, false));
  if (typeof schema.additionalProperties === 'object') errs.push(...structuralErrors(schema.additionalProperties, `${path}.additionalProperties`, false));
  return errs;
}
