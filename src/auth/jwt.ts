/**
 * Compact JSON Web Tokens (RFC 7519) with node:crypto: decoding, signature checks for the
 * algorithms OIDC providers and Kubernetes use, and ES256 signing for the tokens this server
 * issues. Claim rules (issuer, audience, expiry) belong to the callers.
 */
import { createHash, createPublicKey, sign, verify, constants, type KeyObject, type JsonWebKey } from 'node:crypto';

export interface JwtHeader {
  alg?: string;
  kid?: string;
  typ?: string;
}

export type JwtClaims = Record<string, unknown>;

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function base64urlJson(part: string): unknown {
  if (!BASE64URL.test(part)) throw new Error('not base64url');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** Splits and parses a token without checking anything; undefined when it is not a JWT at all. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !BASE64URL.test(parts[2])) return undefined;
  try {
    const header = base64urlJson(parts[0]);
    const claims = base64urlJson(parts[1]);
    if (!isObject(header) || !isObject(claims)) return undefined;
    return { header: header as JwtHeader, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Digest, padding and signature encoding per JWS algorithm (RFC 7518 §3, RFC 8037). */
const ALGORITHMS: Record<string, { hash: string | null; kty: string; pss?: boolean; curve?: string }> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true },
  PS384: { hash: 'sha384', kty: 'RSA', pss: true },
  PS512: { hash: 'sha512', kty: 'RSA', pss: true },
  ES256: { hash: 'sha256', kty: 'EC', curve: 'prime256v1' },
  ES384: { hash: 'sha384', kty: 'EC', curve: 'secp384r1' },
  ES512: { hash: 'sha512', kty: 'EC', curve: 'secp521r1' },
  EdDSA: { hash: null, kty: 'OKP' },
};

export const SUPPORTED_ALGORITHMS = Object.keys(ALGORITHMS);

/** Whether `key` signed the token with the algorithm its header names (which must be allowed). */
export function verifySignature(jwt: DecodedJwt, key: KeyObject, allowed: readonly string[]): boolean {
  const alg = jwt.header.alg ?? '';
  const spec = ALGORITHMS[alg];
  if (!spec || !allowed.includes(alg)) return false;
  const keyType = key.asymmetricKeyType;
  if (spec.kty === 'RSA' && keyType !== 'rsa' && keyType !== 'rsa-pss') return false;
  if (spec.kty === 'EC' && (keyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== spec.curve)) return false;
  if (spec.kty === 'OKP' && keyType !== 'ed25519' && keyType !== 'ed448') return false;
  try {
    const options = spec.kty === 'EC' ? { key, dsaEncoding: 'ieee-p1363' as const } : spec.pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : key;
    return verify(spec.hash, Buffer.from(jwt.signingInput), options, jwt.signature);
  } catch {
    return false;
  }
}

/** Signs claims with an EC P-256 key (ES256) under key id `kid`. */
export function signEs256(claims: JwtClaims, key: KeyObject, kid: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

/** Upstream's key id: the unpadded base64url SHA-256 of the public key's DER SubjectPublicKeyInfo. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

export interface JsonWebKeySet {
  keys: Array<JsonWebKey & { kid?: string; alg?: string; use?: string }>;
}

/** The keys of a JWKS document, by key id (keys without one under ""). Unusable keys are skipped. */
export function keysFromJwks(jwks: unknown): Map<string, KeyObject[]> {
  const byId = new Map<string, KeyObject[]>();
  const keys = isObject(jwks) && Array.isArray(jwks.keys) ? jwks.keys : [];
  for (const jwk of keys) {
    if (!isObject(jwk) || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
    try {
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      const kid = typeof jwk.kid === 'string' ? jwk.kid : '';
      byId.set(kid, [...(byId.get(kid) ?? []), key]);
    } catch {
      // A key this runtime cannot read cannot have signed anything we accept.
    }
  }
  return byId;
}

/** The key candidates for a token: the one its kid names, else every key. */
export function candidateKeys(keys: Map<string, KeyObject[]>, kid: string | undefined): KeyObject[] {
  if (kid !== undefined && keys.has(kid)) return keys.get(kid)!;
  return [...keys.values()].flat();
}

/** NumericDate claims (seconds since the epoch), or undefined when absent or not a number. */
export function numericDate(claims: JwtClaims, name: string): number | undefined {
  const value = claims[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `aud` as a list (a string or an array of strings, RFC 7519 §4.1.3). */
export function audiencesOf(claims: JwtClaims): string[] {
  const aud = claims.aud;
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}

/** Checks exp, nbf and iat against now with upstream's one-minute leeway; returns why not, or undefined. */
export function timeProblem(claims: JwtClaims, nowSeconds: number, leewaySeconds = 60): string | undefined {
  const exp = numericDate(claims, 'exp');
  const nbf = numericDate(claims, 'nbf');
  const iat = numericDate(claims, 'iat');
  if (claims.exp !== undefined && exp === undefined) return 'invalid exp claim';
  if (exp !== undefined && nowSeconds > exp + leewaySeconds) return 'token has expired';
  if (nbf !== undefined && nowSeconds < nbf - leewaySeconds) return 'token is not valid yet';
  if (iat !== undefined && nowSeconds < iat - leewaySeconds) return 'token issued in the future';
  return undefined;
}
