/**
 * Service-account tokens: JWTs this server signs (ES256) and checks, as upstream's
 * serviceaccount token generator and validator. Bound tokens (TokenRequest) carry the
 * `kubernetes.io` claims and stop working once their service account, pod, secret or node is
 * gone or was replaced (uid differs); legacy Secret-based tokens stop once their Secret is gone
 * or holds another token.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type { SealedKeyFiles } from '../storage/keys/sealed-key-files.js';
import { audiencesOf, decodeJwt, keyIdOf, numericDate, signEs256, timeProblem, verifySignature, type JwtClaims } from './jwt.js';
import { AuthenticationError, type TokenAuthenticator, type TokenResult, type UserInfo } from './authenticate.js';
import { serviceAccountUser } from './system-users.js';
import type { Obj } from '../registry/strategy.js';

/** Upstream's issuer for legacy (Secret-based) tokens. */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** What kubeadm passes as --service-account-issuer; ours by default. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** A deleted object's tokens keep working this long after its deletionTimestamp (upstream's grace). */
const DELETION_GRACE_SECONDS = 60;

/** The signing key, created on first start and kept in pki/ sealed with the data key. */
export async function loadServiceAccountSigningKey(keys: SealedKeyFiles): Promise<KeyObject> {
  const pem = await keys.loadOrCreate('sa.key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  });
  return createPrivateKey(pem);
}

/** The objects a token may be bound to, looked up when it is used. */
export type ObjectLookup = (resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string | undefined, name: string) => Obj | undefined;

export interface BoundObjects {
  pod?: Obj;
  secret?: Obj;
  node?: Obj;
}

export interface ServiceAccountTokenOptions {
  signingKey: KeyObject;
  /** --service-account-issuer: the first signs, every one is accepted. */
  issuers: readonly string[];
  /** --api-audiences: what tokens must be meant for (default: the issuers). */
  apiAudiences: readonly string[];
  lookup: ObjectLookup;
  now?: () => number;
}

interface KubernetesClaims {
  namespace?: unknown;
  serviceaccount?: { name?: unknown; uid?: unknown };
  pod?: { name?: unknown; uid?: unknown };
  secret?: { name?: unknown; uid?: unknown };
  node?: { name?: unknown; uid?: unknown };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function ref(object: Obj): { name: string; uid: string } {
  return { name: object.metadata.name!, uid: object.metadata.uid! };
}

export class ServiceAccountTokens implements TokenAuthenticator {
  readonly publicKey: KeyObject;
  readonly keyId: string;
  private readonly now: () => number;

  constructor(private readonly options: ServiceAccountTokenOptions) {
    this.publicKey = createPublicKey(options.signingKey);
    this.keyId = keyIdOf(this.publicKey);
    this.now = options.now ?? Date.now;
  }

  get issuer(): string {
    return this.options.issuers[0];
  }

  get apiAudiences(): readonly string[] {
    return this.options.apiAudiences;
  }

  /** A bound token (TokenRequest), valid for `expirationSeconds` from now. */
  issue(account: Obj, bound: BoundObjects, expirationSeconds: number, audiences: readonly string[]): { token: string; expiresAt: number } {
    const nowSeconds = Math.floor(this.now() / 1000);
    const kubernetes: Record<string, unknown> = { namespace: account.metadata.namespace, serviceaccount: ref(account) };
    if (bound.pod) kubernetes.pod = ref(bound.pod);
    if (bound.secret) kubernetes.secret = ref(bound.secret);
    // Upstream embeds the node a pod runs on (ServiceAccountTokenPodNodeInfo) and node bindings.
    const node = bound.node ?? (bound.pod?.spec?.nodeName ? this.options.lookup('nodes', undefined, bound.pod.spec.nodeName) : undefined);
    if (node) kubernetes.node = ref(node);
    const claims: JwtClaims = {
      aud: [...audiences],
      exp: nowSeconds + expirationSeconds,
      iat: nowSeconds,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': kubernetes,
      nbf: nowSeconds,
      sub: serviceAccountUser(account.metadata.namespace!, account.metadata.name!).name,
    };
    return { token: signEs256(claims, this.options.signingKey, this.keyId), expiresAt: (nowSeconds + expirationSeconds) * 1000 };
  }

  /** A legacy token for a `kubernetes.io/service-account-token` Secret (no expiry; lives as long as the Secret). */
  issueLegacy(account: Obj, secret: Obj): string {
    const claims: JwtClaims = {
      iss: LEGACY_ISSUER,
      'kubernetes.io/serviceaccount/namespace': account.metadata.namespace,
      'kubernetes.io/serviceaccount/secret.name': secret.metadata.name,
      'kubernetes.io/serviceaccount/service-account.name': account.metadata.name,
      'kubernetes.io/serviceaccount/service-account.uid': account.metadata.uid,
      sub: serviceAccountUser(account.metadata.namespace!, account.metadata.name!).name,
    };
    return signEs256(claims, this.options.signingKey, this.keyId);
  }

  authenticateToken(token: string, audiences?: readonly string[]): TokenResult | undefined {
    const jwt = decodeJwt(token);
    if (!jwt) return undefined;
    const issuer = jwt.claims.iss;
    const legacy = issuer === LEGACY_ISSUER;
    if (!legacy && !(typeof issuer === 'string' && this.options.issuers.includes(issuer))) return undefined;
    if (!verifySignature(jwt, this.publicKey, ['ES256'])) throw new AuthenticationError('invalid signature');
    return legacy ? this.validateLegacy(token, jwt.claims, audiences) : this.validateBound(jwt.claims, audiences);
  }

  private validateBound(claims: JwtClaims, requested?: readonly string[]): TokenResult {
    const nowSeconds = Math.floor(this.now() / 1000);
    const problem = timeProblem(claims, nowSeconds);
    if (problem) throw new AuthenticationError(problem);
    if (numericDate(claims, 'exp') === undefined) throw new AuthenticationError('bound token has no expiry');
    const accepted = requested && requested.length > 0 ? requested : this.options.apiAudiences;
    const audiences = audiencesOf(claims).filter((a) => accepted.includes(a));
    if (audiences.length === 0) throw new AuthenticationError('token audiences do not match');
    const k = (claims['kubernetes.io'] ?? {}) as KubernetesClaims;
    const namespace = str(k.namespace);
    const accountName = str(k.serviceaccount?.name);
    if (!namespace || !accountName) throw new AuthenticationError('token names no service account');
    if (claims.sub !== serviceAccountUser(namespace, accountName).name) throw new AuthenticationError('sub claim does not name the service account');
    const account = this.live('serviceaccounts', namespace, accountName, str(k.serviceaccount?.uid), nowSeconds);
    const extra: Record<string, string[]> = {};
    if (k.pod) {
      const pod = this.live('pods', namespace, str(k.pod.name), str(k.pod.uid), nowSeconds);
      extra['authentication.kubernetes.io/pod-name'] = [pod.metadata.name!];
      extra['authentication.kubernetes.io/pod-uid'] = [pod.metadata.uid!];
    }
    if (k.secret) this.live('secrets', namespace, str(k.secret.name), str(k.secret.uid), nowSeconds);
    if (k.node) {
      // A node a pod ran on is only informative; a token bound to the node itself dies with it.
      const node = k.pod ? undefined : this.live('nodes', undefined, str(k.node.name), str(k.node.uid), nowSeconds);
      extra['authentication.kubernetes.io/node-name'] = [str(k.node.name) ?? ''];
      extra['authentication.kubernetes.io/node-uid'] = [node?.metadata.uid ?? str(k.node.uid) ?? ''];
    }
    const jti = str(claims.jti);
    if (jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${jti}`];
    const user: UserInfo = { ...serviceAccountUser(namespace, accountName), uid: account.metadata.uid };
    if (Object.keys(extra).length > 0) user.extra = extra;
    return { user, audiences };
  }

  private validateLegacy(token: string, claims: JwtClaims, requested?: readonly string[]): TokenResult {
    const namespace = str(claims['kubernetes.io/serviceaccount/namespace']);
    const secretName = str(claims['kubernetes.io/serviceaccount/secret.name']);
    const accountName = str(claims['kubernetes.io/serviceaccount/service-account.name']);
    const accountUid = str(claims['kubernetes.io/serviceaccount/service-account.uid']);
    if (!namespace || !secretName || !accountName || !accountUid) throw new AuthenticationError('legacy token lacks its claims');
    // Legacy tokens carry no audience; upstream accepts them only for the API server's own audiences.
    if (requested && requested.length > 0 && !requested.some((a) => this.options.apiAudiences.includes(a))) throw new AuthenticationError('token audiences do not match');
    const nowSeconds = Math.floor(this.now() / 1000);
    const secret = this.live('secrets', namespace, secretName, undefined, nowSeconds);
    const stored = typeof secret.data?.token === 'string' ? Buffer.from(secret.data.token, 'base64').toString('utf8') : '';
    if (stored !== token) throw new AuthenticationError('token does not match the one its secret holds');
    const account = this.live('serviceaccounts', namespace, accountName, accountUid, nowSeconds);
    return { user: { ...serviceAccountUser(namespace, accountName), uid: account.metadata.uid }, audiences: [...this.options.apiAudiences] };
  }

  /** The object a claim names, if it still exists, is the same one (uid) and is not long deleted. */
  private live(resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string | undefined, name: string | undefined, uid: string | undefined, nowSeconds: number): Obj {
    const what = `${resource} ${namespace ? `${namespace}/` : ''}${name ?? ''}`;
    const object = name ? this.options.lookup(resource, namespace, name) : undefined;
    if (!object) throw new AuthenticationError(`${what} has been deleted`);
    if (uid !== undefined && object.metadata.uid !== uid) throw new AuthenticationError(`${what} uid (${object.metadata.uid}) does not match claim (${uid})`);
    const deleted = object.metadata.deletionTimestamp ? Date.parse(object.metadata.deletionTimestamp) / 1000 : undefined;
    if (deleted !== undefined && deleted + DELETION_GRACE_SECONDS < nowSeconds) throw new AuthenticationError(`${what} is being deleted`);
    return object;
  }

  /** GET /.well-known/openid-configuration (upstream's service account issuer discovery). */
  openidConfiguration(jwksUri: string): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: jwksUri,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
    };
  }

  /** GET /openid/v1/jwks. */
  jwks(): Record<string, unknown> {
    return { keys: [{ ...this.publicKey.export({ format: 'jwk' }), use: 'sig', kid: this.keyId, alg: 'ES256' }] };
  }
}
