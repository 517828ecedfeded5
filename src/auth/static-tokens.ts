/**
 * Static bearer tokens from a CSV file (upstream's --token-auth-file): one per line,
 * `token,user,uid,"group1,group2"`. Tokens are kept as SHA-256 digests, looked up by digest.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { TokenAuthenticator, TokenResult, UserInfo } from './authenticate.js';

export class StaticTokens implements TokenAuthenticator {
  private readonly users = new Map<string, UserInfo>();

  static fromFile(path: string): StaticTokens {
    const tokens = new StaticTokens();
    readFileSync(path, 'utf8').split('\n').forEach((line, index) => {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith('#')) return;
      const fields = splitCsv(trimmed);
      if (fields.length < 3 || !fields[0] || !fields[1]) throw new Error(`${path}:${index + 1}: expected token,user,uid[,"groups"]`);
      const groups = fields[3] ? fields[3].split(',').map((g) => g.trim()).filter(Boolean) : [];
      const user: UserInfo = { name: fields[1], groups };
      if (fields[2]) user.uid = fields[2];
      tokens.users.set(digest(fields[0]), user);
    });
    return tokens;
  }

  // A digest lookup reveals nothing about a near miss: the map is keyed by a hash of the secret.
  authenticateToken(token: string): TokenResult | undefined {
    const user = this.users.get(digest(token));
    return user ? { user } : undefined;
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
