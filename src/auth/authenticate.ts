/**
 * Authentication: X.509 client certificates signed by the cluster CA (CN = user, O = groups),
 * as upstream's x509 authenticator, and static bearer tokens (upstream's --token-auth-file).
 * Requests without credentials are anonymous.
 */
import type { TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { timingSafeEqual, createHash } from 'node:crypto';

export interface UserInfo {
  name: string;
  groups: string[];
}

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

const cache = new WeakMap<TLSSocket, UserInfo>();

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The user a connection authenticated as; computed once per connection. */
export function userFromSocket(socket: TLSSocket): UserInfo {
  const cached = cache.get(socket);
  if (cached) return cached;
  let user = ANONYMOUS;
  if (socket.authorized) {
    const cert = socket.getPeerCertificate();
    const name = asList(cert?.subject?.CN)[0];
    if (name) user = { name, groups: [...asList(cert.subject.O), 'system:authenticated'] };
  }
  cache.set(socket, user);
  return user;
}

/**
 * Static tokens from a CSV file, one per line: `token,user,uid,"group1,group2"` (upstream's
 * --token-auth-file format). Tokens are kept as SHA-256 digests and compared in constant time.
 */
export class StaticTokens {
  private readonly users = new Map<string, UserInfo>();

  static fromFile(path: string): StaticTokens {
    const tokens = new StaticTokens();
    readFileSync(path, 'utf8').split('\n').forEach((line, index) => {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith('#')) return;
      const fields = splitCsv(trimmed);
      if (fields.length < 3 || !fields[0] || !fields[1]) throw new Error(`${path}:${index + 1}: expected token,user,uid[,"groups"]`);
      const groups = fields[3] ? fields[3].split(',').map((g) => g.trim()).filter(Boolean) : [];
      tokens.users.set(digest(fields[0]), { name: fields[1], groups: [...groups, 'system:authenticated'] });
    });
    return tokens;
  }

  /** The user a bearer token belongs to, or undefined. */
  authenticate(authorization: string | undefined): UserInfo | undefined {
    const match = authorization?.match(/^Bearer\s+(\S+)$/i);
    if (!match) return undefined;
    const wanted = digest(match[1]);
    for (const [known, user] of this.users) if (timingSafeEqual(Buffer.from(known, 'hex'), Buffer.from(wanted, 'hex'))) return user;
    return undefined;
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function splitCsv(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (char === ',' && !quoted) {
      fields.push(current);
      current = '';
    } else current += char;
  }
  fields.push(current);
  return fields.map((f) => f.trim());
}
