/**
 * Authentication (upstream's authenticator union, kube-apiserver's order): X.509 client
 * certificates signed by the cluster CA (CN = user, O = groups), then bearer tokens (static
 * tokens, service-account JWTs, OIDC JWTs; first match wins), then anonymous. A credential that
 * is presented but not accepted is a 401, never anonymous — as upstream's fail-on-error union.
 */
import type { TLSSocket } from 'node:tls';
import { errors } from '../api/status.js';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  /** Extra attributes (e.g. the pod a service-account token is bound to), keys lower-case. */
  extra?: Record<string, string[]>;
}

export const AUTHENTICATED_GROUP = 'system:authenticated';
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';
export const ANONYMOUS: UserInfo = Object.freeze({ name: 'system:anonymous', groups: [UNAUTHENTICATED_GROUP] }) as UserInfo;

/** What a token authenticator finds: the user, and the audiences the token is valid for. */
export interface TokenResult {
  user: UserInfo;
  audiences?: string[];
}

/**
 * One kind of bearer token. Returns undefined when the token is not of its kind (another
 * authenticator may take it); throws when it is, but is not valid (expired, bad signature …).
 * `audiences` narrows the audiences accepted (TokenReview's spec.audiences).
 */
export interface TokenAuthenticator {
  authenticateToken(token: string, audiences?: readonly string[]): TokenResult | undefined;
}

/** Why a credential was refused (for logs and TokenReview's status.error; clients only see 401). */
export class AuthenticationError extends Error {}

/** Adds system:authenticated as upstream's AuthenticatedGroupAdder does. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(AUTHENTICATED_GROUP) || user.name === ANONYMOUS.name) return user;
  return { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

const bySocket = new WeakMap<TLSSocket, UserInfo | AuthenticationError | null>();

/**
 * The user a connection's client certificate names (computed once per connection): null without
 * a certificate; an AuthenticationError for one the cluster CA did not sign or that expired.
 */
export function certificateUser(socket: TLSSocket): UserInfo | AuthenticationError | null {
  const cached = bySocket.get(socket);
  if (cached !== undefined) return cached;
  let result: UserInfo | AuthenticationError | null = null;
  const cert = socket.getPeerCertificate();
  const presented = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
  if (presented) {
    const name = asList(cert.subject?.CN)[0];
    if (!socket.authorized) result = new AuthenticationError(`x509: ${String(socket.authorizationError ?? 'certificate not trusted')}`);
    else if (!name) result = new AuthenticationError('x509: the certificate names no common name');
    else result = { name, groups: [...asList(cert.subject.O), AUTHENTICATED_GROUP] };
  }
  bySocket.set(socket, result);
  return result;
}

export interface AuthenticatorOptions {
  tokens: readonly TokenAuthenticator[];
  /** --anonymous-auth (default true, as upstream). */
  anonymous: boolean;
}

export class RequestAuthenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  /** Who sent a request; throws 401 for credentials that do not authenticate. */
  authenticate(socket: TLSSocket, authorization: string | undefined): UserInfo {
    const fromCertificate = certificateUser(socket);
    if (fromCertificate instanceof AuthenticationError) throw errors.unauthorized();
    if (fromCertificate) return fromCertificate;
    const token = bearerToken(authorization);
    if (token !== undefined) return this.authenticateToken(token).user;
    if (!this.options.anonymous) throw errors.unauthorized();
    return ANONYMOUS;
  }

  /** A bearer token through every token authenticator; throws 401 when none accepts it. */
  authenticateToken(token: string, audiences?: readonly string[]): TokenResult {
    const result = this.tryToken(token, audiences);
    if (result instanceof AuthenticationError) throw errors.unauthorized();
    return result;
  }

  /** As authenticateToken, but says why a token failed (TokenReview reports it). */
  tryToken(token: string, audiences?: readonly string[]): TokenResult | AuthenticationError {
    let failure: AuthenticationError | undefined;
    for (const authenticator of this.options.tokens) {
      try {
        const result = authenticator.authenticateToken(token, audiences);
        if (result) return { ...result, user: withAuthenticatedGroup(result.user) };
      } catch (error) {
        failure ??= error instanceof AuthenticationError ? error : new AuthenticationError(String(error));
      }
    }
    return failure ?? new AuthenticationError('invalid bearer token');
  }
}

/** The token of an `Authorization: Bearer …` header; undefined for any other scheme or an empty token. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^\s*bearer\s+(.*)$/i.exec(authorization);
  if (!match) return undefined;
  const token = match[1].trim();
  return token === '' ? undefined : token;
}
