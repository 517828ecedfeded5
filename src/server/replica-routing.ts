/**
 * What a replica does with a request when several share one etcd: reads are served from its own
 * hot copy (consistent reads wait until it has caught up with the leader's head, as upstream's
 * consistent reads from the watch cache); everything else is forwarded to the leader over
 * HTTP/2, as the user who sent it, so kubectl pointed at any replica just works.
 *
 * The forwarded identity is signed with a key derived from the cluster data key, which only
 * replicas hold: the leader believes the user a forwarded request names only with a valid
 * signature, and never forwards a forwarded request again.
 *
 * This connection to the leader is also how a follower notices the leader die: when it closes and
 * the leader's address then refuses connections, the leader's process is gone and its lease is
 * revoked at once (EtcdReplica.leaderIsGone) instead of waiting for the TTL.
 */
import { connect as connectHttp2, constants as h2, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { ApiError, errors } from '../api/status.js';
import { decodeContinue } from '../api/continue-token.js';
import { MAX_BODY_BYTES } from '../api/negotiation.js';
import type { UserInfo } from '../auth/authenticate.js';
import { ReadNotFreshError, type EtcdReplica, type LeaderInfo } from '../storage/etcd/replica.js';
import type { Exchange, Headers } from './exchange.js';
import type { RequestInfo } from './request-info.js';
import { log } from './log.js';

const USER_HEADER = 'x-nautilus-forwarded-user';
const AT_HEADER = 'x-nautilus-forwarded-at';
const SIGNATURE_HEADER = 'x-nautilus-forwarded-signature';
/** How long a write waits for a leader to exist (an election in progress) before it is refused. */
const LEADER_WAIT_MS = 3000;
const SIGNATURE_MAX_AGE_MS = 60_000;
const PING_EVERY_MS = 1000;
/** Request headers the leader needs to answer as this replica would. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'user-agent', 'content-encoding'];
/** Response headers passed back to the client. */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'warning', 'retry-after', 'audit-id', 'location'];

/** Subresources a follower can answer from its own copy. */
const LOCAL_SUBRESOURCES = new Set([undefined, 'status', 'scale']);

export class ReplicaRouting {
  private readonly forwardingKey: Buffer;
  private session: { leader: LeaderInfo; session: ClientHttp2Session } | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly replica: EtcdReplica, dataKey: Buffer, private readonly caPem: string) {
    this.forwardingKey = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'nautilus replica forwarding v1', 32));
    replica.on('leader', (leader) => this.follow(leader));
    this.pinger = setInterval(() => this.ping(), PING_EVERY_MS);
    this.pinger.unref();
  }

  /** The user a request forwarded by another replica was sent by; undefined when not forwarded. Throws 401 on a bad signature. */
  forwardedUser(ex: Exchange): UserInfo | undefined {
    const encoded = ex.header(USER_HEADER);
    if (encoded === undefined) return undefined;
    const at = ex.header(AT_HEADER) ?? '';
    const signature = Buffer.from(ex.header(SIGNATURE_HEADER) ?? '', 'hex');
    const expected = this.sign(ex.method, ex.url, at, encoded);
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected) || Math.abs(Date.now() - Number(at)) > SIGNATURE_MAX_AGE_MS) {
      throw errors.unauthorized();
    }
    return JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as UserInfo;
  }

  /** Serves the request here (returns false) or forwards it to the leader (returns true once answered). */
  async route(ex: Exchange, info: RequestInfo, forwarded: boolean): Promise<boolean> {
    if (this.replica.leading || (isRead(info) && LOCAL_SUBRESOURCES.has(info.subresource))) return false;
    if (forwarded) throw unavailable('this replica is no longer the leader');
    if (ex.header('upgrade') || ex.header('connection')?.toLowerCase().includes('upgrade')) {
      throw unavailable(`streaming requests are served by the leader${this.replica.leader ? ` at ${this.replica.leader.url}` : ''}; send them there`);
    }
    const target = await this.leaderSession();
    if (target === 'self') return false;
    await this.forward(ex, target);
    return true;
  }

  /** Upstream's consistency for reads, on a follower (the leader's own copy is always current). */
  async freshness(query: URLSearchParams): Promise<void> {
    if (this.replica.leading) return;
    try {
      const token = query.get('continue');
      if (token) return await this.replica.waitForRevision(decodeContinue(token).revision);
      const resourceVersion = query.get('resourceVersion');
      if (resourceVersion === null || resourceVersion === '') return await this.replica.waitForLeaderHead();
      if (/^\d+$/.test(resourceVersion) && resourceVersion !== '0') await this.replica.waitForRevision(Number(resourceVersion));
    } catch (error) {
      if (error instanceof ReadNotFreshError) {
        throw new ApiError(504, 'Timeout', `Timeout: ${error.message}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
      }
      if (error instanceof ApiError) throw error;
      throw unavailable(`cannot confirm this replica is current: etcd: ${(error as Error).message}`);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.pinger);
    this.session?.session.destroy();
    this.session = undefined;
  }

  private sign(method: string, url: string, at: string, user: string): Buffer {
    return createHmac('sha256', this.forwardingKey).update(`${method}\n${url}\n${at}\n${user}`).digest();
  }

  private async forward(ex: Exchange, target: { leader: LeaderInfo; session: ClientHttp2Session }): Promise<void> {
    const body = await ex.readBody(MAX_BODY_BYTES);
    const user = Buffer.from(JSON.stringify(ex.user)).toString('base64url');
    const at = String(Date.now());
    const headers: Record<string, string> = {
      [h2.HTTP2_HEADER_METHOD]: ex.method,
      [h2.HTTP2_HEADER_PATH]: ex.url,
      [USER_HEADER]: user,
      [AT_HEADER]: at,
      [SIGNATURE_HEADER]: this.sign(ex.method, ex.url, at, user).toString('hex'),
    };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = ex.header(name);
      if (value !== undefined) headers[name] = value;
    }
    const answer = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      let request;
      try {
        request = target.session.request(headers);
      } catch (error) {
        reject(error);
        return;
      }
      let responseHeaders: IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      request.on('response', (received) => (responseHeaders = received));
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (responseHeaders) resolve({ status: Number(responseHeaders[h2.HTTP2_HEADER_STATUS]), headers: responseHeaders, body: Buffer.concat(chunks) });
        else reject(new Error('the leader closed the stream without answering'));
      });
      request.on('error', reject);
      request.end(body);
    }).catch((error: Error) => {
      // The leader went away mid-request: it may have committed the write before it did.
      throw new ApiError(504, 'Timeout', `Timeout: the leader (${target.leader.url}) went away while handling this request (${error.message}); it may or may not have been applied`, {});
    });
    const out: Headers = {};
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = answer.headers[name];
      if (value !== undefined) out[name] = value;
    }
    ex.respond(answer.status, out, answer.body);
  }

  /** A session to the current leader, waiting (bounded) for one to be elected. */
  private async leaderSession(): Promise<{ leader: LeaderInfo; session: ClientHttp2Session } | 'self'> {
    const deadline = Date.now() + LEADER_WAIT_MS;
    for (;;) {
      if (this.replica.leading) return 'self';
      const leader = this.replica.leader;
      if (leader && leader.id !== this.replica.id) {
        const current = this.follow(leader);
        if (current && !current.session.destroyed && !current.session.closed) return current;
      }
      if (Date.now() >= deadline) throw unavailable('no leader is elected yet');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Keeps one session open to `leader`, replacing one to an earlier leader. */
  private follow(leader: LeaderInfo | undefined): { leader: LeaderInfo; session: ClientHttp2Session } | undefined {
    if (this.closed) return undefined;
    if (this.session && (!leader || this.session.leader.createRevision !== leader.createRevision)) {
      this.session.session.destroy();
      this.session = undefined;
    }
    if (!leader || leader.id === this.replica.id) return undefined;
    if (this.session && !this.session.session.destroyed) return this.session;
    const session = connectHttp2(leader.url, { ca: this.caPem });
    const entry = { leader, session };
    this.session = entry;
    session.on('error', (error) => log.debug('connection to the leader failed', { leader: leader.url, error: error.message }));
    session.on('close', () => {
      if (this.session === entry) this.session = undefined;
      if (!this.closed) void this.checkAlive(leader);
    });
    session.unref();
    return entry;
  }

  private ping(): void {
    const current = this.session;
    if (!current || current.session.destroyed || current.session.connecting) return;
    current.session.ping((error) => {
      if (error) current.session.destroy();
    });
  }

  /** After the connection to the leader closed: a refused reconnect proves its process gone. */
  private async checkAlive(leader: LeaderInfo): Promise<void> {
    if (this.replica.leader?.createRevision !== leader.createRevision) return;
    const url = new URL(leader.url);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connectTcp({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 443) });
      socket.setTimeout(1000);
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) await this.replica.leaderIsGone(leader);
    else if (this.replica.leader?.createRevision === leader.createRevision) setTimeout(() => this.follow(this.replica.leader), 100).unref();
  }
}

function isRead(info: RequestInfo): boolean {
  return info.verb === 'get' || info.verb === 'list' || info.verb === 'watch';
}

function unavailable(why: string): ApiError {
  return new ApiError(503, 'ServiceUnavailable', `the storage leader is not reachable from this replica: ${why}; retry`, { retryAfterSeconds: 1 });
}
