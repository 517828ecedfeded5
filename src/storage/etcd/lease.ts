/**
 * One etcd lease kept alive for as long as this replica runs; the leader key is attached to it,
 * so a replica that stops renewing loses leadership when etcd expires the lease.
 *
 * The replica's own view is conservative: a renewal sent at time t and confirmed by etcd keeps
 * the lease valid until t + TTL at the latest, measured on this clock. Past that (etcd unreachable,
 * process stalled) the lease counts as lost here even if etcd has not expired it yet, so a leader
 * stops acting as one before anyone else can be elected.
 */
import { EventEmitter } from 'node:events';
import type { Etcd3, IDuplexStream, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse } from 'etcd3';
import { log } from '../../server/log.js';

export interface KeptLeaseOptions {
  ttlSeconds: number;
  /** How often to renew (default a quarter of the TTL, at most 250 ms). */
  renewEveryMs?: number;
}

export class KeptLease extends EventEmitter<{ lost: [reason: string]; granted: [id: string] }> {
  /** The current lease, once granted. */
  id: string | undefined;
  /** Until when (this clock, ms) the current lease is certainly still valid at etcd. */
  validUntil = 0;
  /** The TTL etcd granted (it raises TTLs below its minimum). */
  grantedTtlSeconds: number;
  private stream: IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse> | undefined;
  private readonly sent: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private granting: Promise<string> | undefined;
  private readonly renewEveryMs: number;

  constructor(private readonly client: Etcd3, private readonly options: KeptLeaseOptions) {
    super();
    this.grantedTtlSeconds = options.ttlSeconds;
    this.renewEveryMs = options.renewEveryMs ?? Math.min(250, (options.ttlSeconds * 1000) / 4);
  }

  /** The lease id, granting a lease first when there is none. */
  current(): Promise<string> {
    if (this.id && Date.now() < this.validUntil) return Promise.resolve(this.id);
    return (this.granting ??= this.grant().finally(() => (this.granting = undefined)));
  }

  get valid(): boolean {
    return this.id !== undefined && Date.now() < this.validUntil;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.stream?.end();
    this.stream = undefined;
  }

  /** Ends the lease at etcd (at shutdown: the leader key goes with it at once). */
  async revoke(): Promise<void> {
    const id = this.id;
    this.close();
    if (id) await this.client.leaseClient.leaseRevoke({ ID: id }).catch(() => undefined);
  }

  private async grant(): Promise<string> {
    const started = Date.now();
    const response = await this.client.leaseClient.leaseGrant({ TTL: this.options.ttlSeconds });
    this.id = response.ID;
    this.grantedTtlSeconds = Number(response.TTL);
    this.validUntil = started + this.grantedTtlSeconds * 1000;
    this.sent.length = 0;
    this.startRenewing();
    this.emit('granted', response.ID);
    return response.ID;
  }

  private startRenewing(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), this.renewEveryMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.closed || !this.id) return;
    if (Date.now() >= this.validUntil) return this.lose('no renewal confirmed by etcd within the lease TTL');
    void this.renew();
  }

  private async renew(): Promise<void> {
    if (!this.stream) {
      const id = this.id;
      try {
        const stream = await this.client.leaseClient.leaseKeepAlive();
        if (this.closed || this.id !== id) {
          stream.end();
          return;
        }
        if (this.stream) {
          stream.end();
          return;
        }
        this.stream = stream;
        this.sent.length = 0;
        stream.on('data', (response: ILeaseKeepAliveResponse) => this.confirmed(response));
        stream.on('error', (error: Error) => this.dropStream(stream, error.message));
        stream.on('end', () => this.dropStream(stream, 'stream ended'));
      } catch (error) {
        log.debug('etcd lease keep-alive stream failed', { error: (error as Error).message });
        return;
      }
    }
    this.sent.push(Date.now());
    this.stream.write({ ID: this.id });
  }

  private confirmed(response: ILeaseKeepAliveResponse): void {
    const sentAt = this.sent.shift();
    if (response.ID !== this.id) return;
    if (Number(response.TTL) <= 0) return this.lose('etcd reports the lease expired');
    if (sentAt !== undefined) this.validUntil = Math.max(this.validUntil, sentAt + Number(response.TTL) * 1000);
  }

  private dropStream(stream: IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>, why: string): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    this.sent.length = 0;
    log.debug('etcd lease keep-alive stream closed', { why });
  }

  private lose(reason: string): void {
    const id = this.id;
    this.id = undefined;
    this.validUntil = 0;
    clearInterval(this.timer);
    this.stream?.end();
    this.stream = undefined;
    if (id) this.emit('lost', reason);
  }
}
