/** core/v1 Secret. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { immutable, tooLong } from './common/validation.js';
import { MAX_DATA_BYTES, validateDataKeys, validateImmutableData } from './common/config-data.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';

/** Keys each well-known secret type must carry (upstream ValidateSecret). */
const REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.key', 'tls.crt'],
};

/** stringData is write-only convenience: it is merged into data (winning over it) and never stored. */
function mergeStringData(secret: Obj): void {
  if (!isPlainObject(secret.stringData)) return;
  const data = isPlainObject(secret.data) ? secret.data : {};
  for (const [key, value] of Object.entries(secret.stringData)) {
    if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  secret.data = data;
  delete secret.stringData;
}

function validateTypeRequirements(secret: Obj, data: Record<string, string>): FieldError[] {
  const errs: FieldError[] = [];
  const type: string = secret.type;
  for (const key of REQUIRED_KEYS[type] ?? []) if (!(key in data)) errs.push(fieldErrors.required(`data[${key}]`));
  if (type === 'kubernetes.io/basic-auth' && !('username' in data) && !('password' in data)) {
    errs.push(fieldErrors.required('data[username]'), fieldErrors.required('data[password]'));
  }
  if (type === 'kubernetes.io/service-account-token' && !secret.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION]) {
    errs.push(fieldErrors.required(`metadata.annotations[${SERVICE_ACCOUNT_NAME_ANNOTATION}]`));
  }
  return errs;
}

function validateSecret(secret: Obj): FieldError[] {
  const errs = validateDataKeys(secret.data, 'data');
  const data = (isPlainObject(secret.data) ? secret.data : {}) as Record<string, string>;
  let size = 0;
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string') continue;
    if (!BASE64.test(value)) errs.push(fieldErrors.invalid(`data[${key}]`, '<secret contents redacted>', 'must be base64 encoded'));
    else size += Buffer.byteLength(value, 'base64');
  }
  if (size > MAX_DATA_BYTES) errs.push(tooLong('data', MAX_DATA_BYTES));
  if (typeof secret.type !== 'string' || secret.type === '') errs.push(fieldErrors.required('type'));
  else errs.push(...validateTypeRequirements(secret, data));
  return errs;
}

export const secrets: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,

  defaults(secret) {
    secret.type ||= 'Opaque';
    mergeStringData(secret);
  },
  validate(secret, old) {
    const errs = validateSecret(secret);
    if (old) errs.push(...immutable('type', secret.type, old.type), ...validateImmutableData(secret, old, ['data']));
    return errs;
  },

  columns: [
    { name: 'Type', type: 'string', description: 'Used to facilitate programmatic handling of secret data.', cell: (s) => s.type ?? '' },
    { name: 'Data', type: 'string', description: 'Data contains the secret data.', cell: (s) => Object.keys(s.data ?? {}).length },
    ageColumn,
  ],
  fieldSelectors: {
    type: (s) => s.type ?? '',
  },
};
