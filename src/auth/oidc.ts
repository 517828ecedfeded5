/**
 * OpenID Connect ID tokens from one configured issuer, as upstream's --oidc-* flags describe.
 * There is no network in a TEE's boot path, so the issuer's keys come from a local JWKS file
 * (--oidc-jwks-file) instead of discovery.
 */
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { audiencesOf, candidateKeys, decodeJwt, keysFromJwks, numericDate, SUPPORTED_ALGORITHMS, timeProblem, verifySignature, type JwtClaims } from './jwt.js';
import { AuthenticationError, type TokenAuthenticator, type TokenResult, type UserInfo } from './authenticate.js';

export interface OidcOptions {
  issuerUrl: string;
  clientId: string;
  /** JWKS document (a file path is read by `fromFlags`). */
  jwks: unknown;
  usernameClaim?: string;
  /** undefined: upstream's default (issuer URL + "#" unless the claim is "email"); "-": none. */
  usernamePrefix?: string;
  groupsClaim?: string;
  groupsPrefix?: string;
  requiredClaims?: Record<string, string>;
  /** --oidc-signing-algs (default RS256). */
  signingAlgorithms?: readonly string[];
  now?: () => number;
}

export interface OidcFlags {
  issuerUrl?: string;
  clientId?: string;
  jwksFile?: string;
  usernameClaim?: string;
  usernamePrefix?: string;
  groupsClaim?: string;
  groupsPrefix?: string;
  requiredClaims?: readonly string[];
  signingAlgorithms?: string;
}

export class OidcAuthenticator implements TokenAuthenticator {
  private readonly keys: Map<string, KeyObject[]>;
  private readonly usernameClaim: string;
  private readonly usernamePrefix: string;
  private readonly algorithms: readonly string[];
  private readonly now: () => number;

  /** From the serve flags; undefined when OIDC is not configured. Throws on an inconsistent set. */
  static fromFlags(flags: OidcFlags): OidcAuthenticator | undefined {
    if (!flags.issuerUrl) {
      if (flags.clientId || flags.jwksFile) throw new Error('--oidc-client-id and --oidc-jwks-file need --oidc-issuer-url');
      return undefined;
    }
    if (!/^https:\/\//.test(flags.issuerUrl)) throw new Error(`--oidc-issuer-url must be an https URL, got ${JSON.stringify(flags.issuerUrl)}`);
    if (!flags.clientId) throw new Error('--oidc-issuer-url needs --oidc-client-id');
    if (!flags.jwksFile) throw new Error('--oidc-issuer-url needs --oidc-jwks-file (the issuer\'s keys; there is no network discovery)');
    const requiredClaims: Record<string, string> = {};
    for (const pair of flags.requiredClaims ?? []) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`--oidc-required-claim must be key=value, got ${JSON.stringify(pair)}`);
      requiredClaims[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const algorithms = (flags.signingAlgorithms ?? 'RS256').split(',').map((a) => a.trim()).filter(Boolean);
    for (const alg of algorithms) if (!SUPPORTED_ALGORITHMS.includes(alg)) throw new Error(`--oidc-signing-algs: unsupported algorithm ${JSON.stringify(alg)}; supported: ${SUPPORTED_ALGORITHMS.join(', ')}`);
    let jwks: unknown;
    try {
      jwks = JSON.parse(readFileSync(flags.jwksFile, 'utf8'));
    } catch (error) {
      throw new Error(`--oidc-jwks-file ${flags.jwksFile}: ${(error as Error).message}`);
    }
    return new OidcAuthenticator({ ...flags, issuerUrl: flags.issuerUrl, clientId: flags.clientId, jwks, requiredClaims, signingAlgorithms: algorithms });
  }

  constructor(private readonly options: OidcOptions) {
    this.keys = keysFromJwks(options.jwks);
    if (this.keys.size === 0) throw new Error('the OIDC JWKS holds no usable signing key');
    this.usernameClaim = options.usernameClaim ?? 'sub';
    const prefix = options.usernamePrefix;
    this.usernamePrefix = prefix === '-' ? '' : prefix !== undefined ? prefix : this.usernameClaim === 'email' ? '' : `${options.issuerUrl}#`;
    this.algorithms = options.signingAlgorithms ?? ['RS256'];
    this.now = options.now ?? Date.now;
  }

  authenticateToken(token: string, audiences?: readonly string[]): TokenResult | undefined {
    const jwt = decodeJwt(token);
    if (!jwt || jwt.claims.iss !== this.options.issuerUrl) return undefined;
    if (!candidateKeys(this.keys, jwt.header.kid).some((key) => verifySignature(jwt, key, this.algorithms))) {
      throw new AuthenticationError('oidc: verify token: failed to verify signature');
    }
    const claims = jwt.claims;
    if (numericDate(claims, 'exp') === undefined) throw new AuthenticationError('oidc: token has no exp claim');
    const problem = timeProblem(claims, Math.floor(this.now() / 1000));
    if (problem) throw new AuthenticationError(`oidc: verify token: ${problem}`);
    if (!audiencesOf(claims).includes(this.options.clientId)) throw new AuthenticationError(`oidc: expected audience ${JSON.stringify(this.options.clientId)}`);
    // TokenReview's audiences: an ID token is for the API server only.
    if (audiences && audiences.length > 0 && !audiences.includes(this.options.clientId)) throw new AuthenticationError('token audiences do not match');
    return { user: this.userOf(claims), audiences: audiences ? [...audiences] : undefined };
  }

  private userOf(claims: JwtClaims): UserInfo {
    const username = claims[this.usernameClaim];
    if (typeof username !== 'string' || username === '') throw new AuthenticationError(`oidc: parse username claims ${JSON.stringify(this.usernameClaim)}: claim not present or not a string`);
    if (this.usernameClaim === 'email' && claims.email_verified !== undefined && claims.email_verified !== true) {
      throw new AuthenticationError('oidc: email not verified');
    }
    for (const [name, wanted] of Object.entries(this.options.requiredClaims ?? {})) {
      const value = claims[name];
      if (typeof value !== 'string') throw new AuthenticationError(`oidc: required claim ${name} not present in ID token`);
      if (value !== wanted) throw new AuthenticationError(`oidc: required claim ${name} value does not match. Got = ${value}, want = ${wanted}`);
    }
    const groups: string[] = [];
    const groupsClaim = this.options.groupsClaim;
    if (groupsClaim && claims[groupsClaim] !== undefined) {
      const value = claims[groupsClaim];
      const list = typeof value === 'string' ? [value] : Array.isArray(value) && value.every((g) => typeof g === 'string') ? (value as string[]) : undefined;
      if (!list) throw new AuthenticationError(`oidc: parse groups claim ${JSON.stringify(groupsClaim)}: not a string or a list of strings`);
      for (const group of list) groups.push(`${this.options.groupsPrefix ?? ''}${group}`);
    }
    return { name: `${this.usernamePrefix}${username}`, groups };
  }
}
