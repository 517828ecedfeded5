/**
 * The REST side of the authentication and authorization APIs: the review resources
 * (authentication.k8s.io, authorization.k8s.io — posted, answered, never stored), the
 * serviceaccounts/token subresource (TokenRequest), and the service-account issuer's OIDC
 * discovery documents.
 */
import { errors } from '../api/status.js';
import { bodyFormat, decodeObject, MAX_BODY_BYTES } from '../api/negotiation.js';
import type { KindStrategy, Obj } from '../registry/strategy.js';
import type { ExtraSubresource } from '../api/discovery.js';
import { review, reviewKind, REVIEW_KINDS, type ReviewContext } from '../auth/reviews.js';
import { requestToken } from '../auth/token-request.js';
import type { ObjectLookup, ServiceAccountTokens } from '../auth/service-account-tokens.js';
import type { Exchange } from './exchange.js';
import type { RequestInfo } from './request-info.js';
import { respondJson } from './responses.js';

export interface AuthResources {
  reviews: ReviewContext;
  serviceAccountTokens: ServiceAccountTokens;
  lookup: ObjectLookup;
  /** Where clients fetch the issuer's keys (jwks_uri); known once the server listens. */
  jwksUri: () => string;
}

export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/openid/v1/jwks';

/** kubectl before 1.28 asks `auth whoami` of the beta SelfSubjectReview. */
const SELF_SUBJECT_REVIEW_BETA = 'v1beta1';

const reviewApiKind = (k: (typeof REVIEW_KINDS)[number], version: string): KindStrategy => ({
  group: k.group,
  version,
  kind: k.kind,
  plural: k.plural,
  singular: k.kind.toLowerCase(),
  namespaced: k.namespaced,
  verbs: ['create'],
  columns: [],
});

/** Discovery's view of the review kinds: create-only, served but not stored. */
export const REVIEW_API_KINDS: KindStrategy[] = [
  ...REVIEW_KINDS.map((k) => reviewApiKind(k, 'v1')),
  ...REVIEW_KINDS.filter((k) => k.kind === 'SelfSubjectReview').map((k) => reviewApiKind(k, SELF_SUBJECT_REVIEW_BETA)),
];

export const TOKEN_SUBRESOURCE: ExtraSubresource = {
  group: '',
  version: 'v1',
  parentPlural: 'serviceaccounts',
  name: 'token',
  kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
  verbs: ['create'],
  namespaced: true,
};

/** Whether this resource request is one of ours (reviews, serviceaccounts/token). */
export function isAuthResource(info: RequestInfo): boolean {
  if (info.version === SELF_SUBJECT_REVIEW_BETA) return reviewKind(info.group, info.resource)?.kind === 'SelfSubjectReview';
  if (info.version !== 'v1') return false;
  if (reviewKind(info.group, info.resource)) return true;
  return info.group === '' && info.resource === 'serviceaccounts' && info.subresource === 'token';
}

async function readBody(ex: Exchange): Promise<Obj> {
  return decodeObject(await ex.readBody(MAX_BODY_BYTES), bodyFormat(ex.header('content-type'))) as Obj;
}

export async function handleAuthResource(ex: Exchange, info: RequestInfo, resources: AuthResources): Promise<void> {
  const kind = reviewKind(info.group, info.resource);
  if (kind) {
    if (info.name || info.subresource) throw errors.pathNotFound();
    if (kind.namespaced !== (info.namespace !== undefined)) throw errors.pathNotFound();
    if (info.verb !== 'create') throw errors.methodNotAllowed(ex.method, info.path);
    const body = await readBody(ex);
    const apiVersion = `${kind.group}/${info.version}`;
    checkTypeMeta(body, apiVersion, kind.kind);
    if (kind.namespaced && body.metadata?.namespace && body.metadata.namespace !== info.namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    return respondJson(ex, 201, JSON.stringify({ ...review(kind, body, ex.user!, info.namespace, resources.reviews), apiVersion }));
  }
  if (!info.namespace || !info.name) throw errors.pathNotFound();
  if (info.verb !== 'create') throw errors.methodNotAllowed(ex.method, info.path);
  const body = await readBody(ex);
  checkTypeMeta(body, 'authentication.k8s.io/v1', 'TokenRequest');
  respondJson(ex, 201, JSON.stringify(requestToken(resources.serviceAccountTokens, resources.lookup, info.namespace, info.name, body)));
}

function checkTypeMeta(body: Obj, apiVersion: string, kind: string): void {
  if (body.apiVersion !== undefined && body.apiVersion !== '' && body.apiVersion !== apiVersion) {
    throw errors.badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersion})`);
  }
  if (body.kind !== undefined && body.kind !== '' && body.kind !== kind) throw errors.badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${kind})`);
}

/** GET /.well-known/openid-configuration and /openid/v1/jwks; false for any other path. */
export function serveIssuerDiscovery(ex: Exchange, path: string, resources: AuthResources): boolean {
  if (path === OPENID_CONFIGURATION_PATH) {
    respondJson(ex, 200, JSON.stringify(resources.serviceAccountTokens.openidConfiguration(resources.jwksUri())));
    return true;
  }
  if (path === JWKS_PATH) {
    respondJson(ex, 200, JSON.stringify(resources.serviceAccountTokens.jwks()), 'application/jwk-set+json');
    return true;
  }
  return false;
}
