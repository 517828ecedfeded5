/**
 * Bootstrap tokens (upstream's plugin/pkg/auth/authenticator/token/bootstrap, kube-apiserver's
 * --enable-bootstrap-token-auth): a bearer token `<id>.<secret>` (`[a-z0-9]{6}.[a-z0-9]{16}`)
 * names the Secret `bootstrap-token-<id>` in kube-system, of type bootstrap.kubernetes.io/token,
 * whose `token-secret` must match, `usage-bootstrap-authentication` be "true" and `expiration`
 * (RFC 3339), if any, lie ahead. The user is `system:bootstrap:<id>` in `system:bootstrappers` and
 * the `auth-extra-groups` the Secret lists (each `system:bootstrappers:…`). As upstream, a token
 * that does not fit any of this is declined (another authenticator may take it, else 401).
 */
import { timingSafeEqual } from 'node:crypto';
import type { TokenAuthenticator, TokenResult } from './authenticate.js';
import type { ObjectLookup } from './service-account-tokens.js';
import type { Obj } from '../registry/strategy.js';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';
const TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const EXTRA_GROUP = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

function decoded(secret: Obj, key: string): string | undefined {
  const value: unknown = secret.data?.[key];
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : undefined;
}

export class BootstrapTokens implements TokenAuthenticator {
  constructor(private readonly lookup: ObjectLookup, private readonly now: () => number = Date.now) {}

  authenticateToken(token: string): TokenResult | undefined {
    const match = TOKEN.exec(token);
    if (!match) return undefined;
    const [, id, secretPart] = match;
    const secret = this.lookup('secrets', 'kube-system', `bootstrap-token-${id}`);
    if (!secret || secret.metadata.deletionTimestamp || secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return undefined;
    const stored = Buffer.from(decoded(secret, 'token-secret') ?? '');
    const given = Buffer.from(secretPart);
    if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
    if (decoded(secret, 'token-id') !== id) return undefined;
    const expiration = decoded(secret, 'expiration');
    if (expiration !== undefined) {
      const at = Date.parse(expiration);
      if (!Number.isFinite(at) || at <= this.now()) return undefined;
    }
    if (decoded(secret, 'usage-bootstrap-authentication') !== 'true') return undefined;
    const extra = (decoded(secret, 'auth-extra-groups') ?? '').split(',').map((g) => g.trim()).filter(Boolean);
    if (extra.some((group) => !EXTRA_GROUP.test(group))) return undefined;
    return { user: { name: `system:bootstrap:${id}`, groups: [BOOTSTRAPPERS_GROUP, ...extra.filter((g) => g !== BOOTSTRAPPERS_GROUP)] } };
  }
}
