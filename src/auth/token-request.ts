/**
 * POST serviceaccounts/{name}/token (authentication.k8s.io/v1 TokenRequest, upstream's
 * TokenREST): a token for the service account, optionally bound to a Pod, Secret or Node that
 * must exist (and have the uid given); it stops working when that object goes.
 */
import { ApiError, errors, fieldErrors } from '../api/status.js';
import type { Obj } from '../registry/strategy.js';
import type { BoundObjects, ObjectLookup, ServiceAccountTokens } from './service-account-tokens.js';

const GROUP = 'authentication.k8s.io';
const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rfc3339Seconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function requestToken(tokens: ServiceAccountTokens, lookup: ObjectLookup, namespace: string, accountName: string, body: Obj): Obj {
  if (body.kind !== undefined && body.kind !== 'TokenRequest') throw errors.badRequest(`the body of the request must be a TokenRequest, got kind ${JSON.stringify(body.kind)}`);
  const spec: Obj = isObject(body.spec) ? structuredClone(body.spec) : ({} as Obj);
  const expiration = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (typeof expiration !== 'number' || !Number.isInteger(expiration)) {
    throw errors.invalid('TokenRequest', GROUP, '', [fieldErrors.typeInvalid('spec.expirationSeconds', expiration, 'must be an integer')]);
  }
  if (expiration < MIN_EXPIRATION_SECONDS) throw errors.invalid('TokenRequest', GROUP, '', [fieldErrors.invalid('spec.expirationSeconds', expiration, 'may not specify a duration less than 10 minutes')]);
  if (expiration > MAX_EXPIRATION_SECONDS) throw errors.invalid('TokenRequest', GROUP, '', [fieldErrors.invalid('spec.expirationSeconds', expiration, 'may not specify a duration larger than 2^32 seconds')]);
  spec.expirationSeconds = expiration;

  const account = lookup('serviceaccounts', namespace, accountName);
  if (!account) throw errors.notFound({ group: '', resource: 'serviceaccounts' }, accountName);

  const bound: BoundObjects = {};
  const ref = spec.boundObjectRef;
  if (ref !== undefined && ref !== null) {
    if (!isObject(ref)) throw errors.badRequest('spec.boundObjectRef must be an object');
    const apiVersion = typeof ref.apiVersion === 'string' ? ref.apiVersion : '';
    const kind = typeof ref.kind === 'string' ? ref.kind : '';
    const name = typeof ref.name === 'string' ? ref.name : '';
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    let object: Obj | undefined;
    if (group === '' && kind === 'Pod') {
      object = lookup('pods', namespace, name);
      if (!object) throw errors.notFound({ group: '', resource: 'pods' }, name);
      if ((object.spec?.serviceAccountName ?? 'default') !== accountName) {
        throw errors.badRequest(`cannot bind token for serviceaccount ${JSON.stringify(accountName)} to pod running with different serviceaccount name.`);
      }
      bound.pod = object;
    } else if (group === '' && kind === 'Secret') {
      object = lookup('secrets', namespace, name);
      if (!object) throw errors.notFound({ group: '', resource: 'secrets' }, name);
      bound.secret = object;
    } else if (group === '' && kind === 'Node') {
      object = lookup('nodes', undefined, name);
      if (!object) throw errors.notFound({ group: '', resource: 'nodes' }, name);
      bound.node = object;
    } else {
      throw errors.badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${kind}`);
    }
    if (typeof ref.uid === 'string' && ref.uid !== '' && ref.uid !== object.metadata.uid) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${kind} ${JSON.stringify(name)}: the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`, { name, kind });
    }
  }
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.filter((a: unknown): a is string => typeof a === 'string') : [...tokens.apiAudiences];
  spec.audiences = audiences;
  const { token, expiresAt } = tokens.issue(account, bound, expiration, audiences);
  return {
    kind: 'TokenRequest',
    apiVersion: `${GROUP}/v1`,
    metadata: { name: accountName, namespace, creationTimestamp: null },
    spec,
    status: { token, expirationTimestamp: rfc3339Seconds(expiresAt) },
  } as unknown as Obj;
}
