/** Validation rules shared by many kinds (k8s.io/apimachinery validation + apimachinery ObjectMeta). */
import { fieldErrors, type FieldError } from '../../api/status.js';
import type { Obj } from '../strategy.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const C_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function dns1123LabelErrors(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) problems.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(value)) {
    problems.push(`a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`);
  }
  return problems;
}

export function dns1123SubdomainErrors(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 253) problems.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(value)) {
    problems.push(`a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`);
  }
  return problems;
}

/** Path segment names (RBAC, etc.): anything but "." / ".." / containing "/" or "%". */
export function pathSegmentNameErrors(value: string): string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  if (value.includes('/')) return [`may not contain '/'`];
  if (value.includes('%')) return [`may not contain '%'`];
  return [];
}

export function qualifiedNameErrors(value: string): string[] {
  const problems: string[] = [];
  const slash = value.lastIndexOf('/');
  const name = slash >= 0 ? value.slice(slash + 1) : value;
  if (slash >= 0) {
    const prefix = value.slice(0, slash);
    if (prefix.length === 0) problems.push('prefix part must be non-empty');
    else problems.push(...dns1123SubdomainErrors(prefix).map((p) => `prefix part ${p}`));
  }
  if (name.length === 0) problems.push('name part must be non-empty');
  else if (name.length > 63) problems.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED_NAME.test(name)) {
    problems.push(`name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`);
  }
  return problems;
}

export function labelValueErrors(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) problems.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) {
    problems.push(`a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`);
  }
  return problems;
}

export function isCIdentifier(value: string): boolean {
  return C_IDENTIFIER.test(value);
}

export function validateLabels(labels: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (labels === undefined || labels === null) return errs;
  if (typeof labels !== 'object' || Array.isArray(labels)) return [fieldErrors.typeInvalid(field, labels, 'must be a map of string keys to string values')];
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    for (const p of qualifiedNameErrors(key)) errs.push(fieldErrors.invalid(field, key, p));
    if (typeof value !== 'string') errs.push(fieldErrors.typeInvalid(`${field}.${key}`, value, 'must be a string'));
    else for (const p of labelValueErrors(value)) errs.push(fieldErrors.invalid(field, value, p));
  }
  return errs;
}

export function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (annotations === undefined || annotations === null) return errs;
  if (typeof annotations !== 'object' || Array.isArray(annotations)) return [fieldErrors.typeInvalid(field, annotations, 'must be a map of string keys to string values')];
  let total = 0;
  for (const [key, value] of Object.entries(annotations as Record<string, unknown>)) {
    for (const p of qualifiedNameErrors(key.toLowerCase())) errs.push(fieldErrors.invalid(field, key, p));
    if (typeof value !== 'string') errs.push(fieldErrors.typeInvalid(`${field}.${key}`, value, 'must be a string'));
    else total += key.length + value.length;
  }
  if (total > 256 * 1024) errs.push({ type: 'FieldValueTooLong', field, detail: `Too long: must have at most 262144 bytes` });
  return errs;
}

/** Validates metadata common to every kind (name rules come from the strategy). */
export function validateObjectMeta(object: Obj, nameErrors: (name: string) => string[], namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const meta = object.metadata;
  if (!meta.name) errs.push(fieldErrors.required('metadata.name', 'name or generateName is required'));
  else for (const p of nameErrors(meta.name)) errs.push(fieldErrors.invalid('metadata.name', meta.name, p));
  if (namespaced) {
    if (!meta.namespace) errs.push(fieldErrors.required('metadata.namespace'));
  } else if (meta.namespace) errs.push(fieldErrors.forbidden('metadata.namespace', 'not allowed on this type'));
  errs.push(...validateLabels(meta.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  if (meta.finalizers !== undefined) {
    if (!Array.isArray(meta.finalizers)) errs.push(fieldErrors.typeInvalid('metadata.finalizers', meta.finalizers, 'must be a list of strings'));
    else
      meta.finalizers.forEach((f, i) => {
        if (typeof f !== 'string') errs.push(fieldErrors.typeInvalid(`metadata.finalizers[${i}]`, f, 'must be a string'));
        else for (const p of qualifiedNameErrors(f)) errs.push(fieldErrors.invalid(`metadata.finalizers[${i}]`, f, p));
      });
    // The garbage collector cannot both orphan and delete the same dependents.
    if (Array.isArray(meta.finalizers) && meta.finalizers.includes('orphan') && meta.finalizers.includes('foregroundDeletion')) {
      errs.push(fieldErrors.invalid('metadata.finalizers', meta.finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
    }
  }
  // One controller at most (upstream's ValidateOwnerReferences): adoption by patch relies on it.
  if (Array.isArray(meta.ownerReferences)) {
    const controllers = meta.ownerReferences.filter((ref) => ref?.controller === true);
    if (controllers.length > 1) {
      errs.push(fieldErrors.invalid('metadata.ownerReferences', meta.ownerReferences, `Only one reference can have Controller set to true. Found "true" in references for ${controllers[0].kind}/${controllers[0].name} and ${controllers[1].kind}/${controllers[1].name}`));
    }
  }
  return errs;
}

/** Fields that may not change once set. */
export function immutable(field: string, value: unknown, oldValue: unknown): FieldError[] {
  if (JSON.stringify(value) === JSON.stringify(oldValue)) return [];
  return [fieldErrors.invalid(field, value, 'field is immutable')];
}

/** Resource quantities ("100m", "1Gi", "2", "1e3"). */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

export function isQuantity(value: unknown): boolean {
  return (typeof value === 'string' && QUANTITY.test(value)) || (typeof value === 'number' && Number.isFinite(value));
}

const BINARY_SUFFIX: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL_SUFFIX: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The numeric value of a quantity, or NaN. */
export function parseQuantity(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return NaN;
  const match = value.match(/^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/);
  if (!match) return NaN;
  const number = Number(match[1]);
  const suffix = match[2] ?? '';
  if (suffix in BINARY_SUFFIX) return number * BINARY_SUFFIX[suffix];
  if (suffix in DECIMAL_SUFFIX) return number * DECIMAL_SUFFIX[suffix];
  return number * 10 ** Number(suffix.slice(1));
}

export function validateNonNegativeInteger(value: unknown, field: string): FieldError[] {
  if (value === undefined) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [fieldErrors.typeInvalid(field, value, 'must be an integer')];
  if (value < 0) return [fieldErrors.invalid(field, value, 'must be greater than or equal to 0')];
  return [];
}

export function validatePort(value: unknown, field: string): FieldError[] {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    return [fieldErrors.invalid(field, value, 'must be between 1 and 65535, inclusive')];
  }
  return [];
}

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Service names: like a DNS-1123 label, but must start with a letter. */
export function dns1035LabelErrors(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) problems.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(value)) {
    problems.push(`a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`);
  }
  return problems;
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** Keys of ConfigMap and Secret data (they become file names in volumes). */
export function configKeyErrors(key: string): string[] {
  const problems: string[] = [];
  if (key.length > 253) problems.push('must be no more than 253 characters');
  if (!CONFIG_KEY.test(key)) {
    problems.push(`a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`);
  }
  if (key === '.') problems.push(`must not be '.'`);
  else if (key === '..') problems.push(`must not be '..'`);
  else if (key.startsWith('..')) problems.push(`must not start with '..'`);
  return problems;
}

const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** A metav1.LabelSelector (matchLabels + matchExpressions). */
export function validateLabelSelector(selector: unknown, field: string): FieldError[] {
  if (selector === undefined || selector === null) return [];
  if (typeof selector !== 'object' || Array.isArray(selector)) return [fieldErrors.typeInvalid(field, selector, 'must be a label selector')];
  const { matchLabels, matchExpressions } = selector as Obj;
  const errs = validateLabels(matchLabels, `${field}.matchLabels`);
  if (matchExpressions === undefined) return errs;
  if (!Array.isArray(matchExpressions)) return [...errs, fieldErrors.typeInvalid(`${field}.matchExpressions`, matchExpressions, 'must be a list')];
  matchExpressions.forEach((expression: Obj, i: number) => {
    const ef = `${field}.matchExpressions[${i}]`;
    if (typeof expression?.key !== 'string') errs.push(fieldErrors.required(`${ef}.key`));
    else for (const p of qualifiedNameErrors(expression.key)) errs.push(fieldErrors.invalid(`${ef}.key`, expression.key, p));
    const values: unknown = expression?.values;
    const count = Array.isArray(values) ? values.length : 0;
    switch (expression?.operator) {
      case 'In':
      case 'NotIn':
        if (count === 0) errs.push(fieldErrors.required(`${ef}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (count > 0) errs.push(fieldErrors.forbidden(`${ef}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
        break;
      default:
        errs.push(fieldErrors.notSupported(`${ef}.operator`, expression?.operator, SELECTOR_OPERATORS));
    }
  });
  return errs;
}

/** An int-or-string such as maxUnavailable: a non-negative integer or a percentage. */
export function validateIntOrPercent(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'number') return validateNonNegativeInteger(value, field);
  if (typeof value === 'string') {
    const match = value.match(/^(\d+)%$/);
    if (!match) return [fieldErrors.invalid(field, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
    return [];
  }
  return [fieldErrors.typeInvalid(field, value, 'must be an integer or a percentage')];
}

/** Whether an int-or-percent is zero ("0", 0 or "0%"). */
export function isZeroIntOrPercent(value: unknown): boolean {
  return value === 0 || value === '0%' || value === '0';
}

export function validateOneOf(value: unknown, field: string, supported: readonly string[], required = false): FieldError[] {
  if (value === undefined || value === null || value === '') return required ? [fieldErrors.required(field)] : [];
  if (!supported.includes(value as string)) return [fieldErrors.notSupported(field, value, supported)];
  return [];
}

/** A list longer than upstream allows (upstream's TooMany; our FieldError vocabulary reports it as TooLong). */
export function tooMany(field: string, count: number, maximum: number): FieldError {
  return { type: 'FieldValueTooLong', field, detail: `Too many: ${count}: must have at most ${maximum} items` };
}

/** A value (or a sum of values) over a byte limit. */
export function tooLong(field: string, maximum: number): FieldError {
  return { type: 'FieldValueTooLong', field, detail: `Too long: must have at most ${maximum} bytes` };
}
