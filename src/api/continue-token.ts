/**
 * Continue tokens: base64 JSON of the list's revision and the last key served, so that every
 * page of a list is read at the revision of its first page (as upstream's etcd3 tokens).
 */
import { errors } from './status.js';

export interface ContinuePosition {
  revision: number;
  afterKey: string;
}

export function encodeContinue(position: ContinuePosition): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: position.revision, start: position.afterKey })).toString('base64url');
}

export function decodeContinue(token: string): ContinuePosition {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (decoded.v !== 'meta.k8s.io/v1' || typeof decoded.rv !== 'number' || typeof decoded.start !== 'string') throw new Error('malformed');
    return { revision: decoded.rv, afterKey: decoded.start };
  } catch {
    throw errors.badRequest('continue key is not valid: the token is malformed; start a new list without it');
  }
}
