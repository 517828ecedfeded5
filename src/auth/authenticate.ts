/**
 * Authentication: X.509 client certificates signed by the cluster CA (CN = user, O = groups),
 * as upstream's x509 authenticator. Requests without credentials are anonymous.
 */
import type { TLSSocket } from 'node:tls';

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
