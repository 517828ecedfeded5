/**
 * Kubelet client certificate rotation (upstream's kubelet certificate manager, `--rotate-certificates`):
 * at a random point between 70 % and 90 % of the current certificate's lifetime the node asks for a
 * new one — a CertificateSigningRequest sent as the node itself, which the csrapproving controller
 * approves as `selfnodeclient` — and switches to it; a failed attempt is retried with a doubling
 * delay (2 s to 5 min), never past the certificate's own expiry check.
 */
import { X509Certificate } from 'node:crypto';
import type { KeyAndCert } from '../auth/pki.js';

const FIRST_RETRY_MS = 2_000;
const MAX_RETRY_MS = 5 * 60_000;
/** setTimeout's limit is ~24.8 days: a deadline further away is approached in steps. */
const MAX_TIMER_MS = 24 * 3600_000;

/**
 * When to renew: notBefore + (0.7 … 0.9) × lifetime, as upstream's nextRotationDeadline jitters it —
 * but never sooner than halfway through what was left when the certificate arrived. Signers
 * backdate notBefore by 5 minutes, so for a certificate of a few minutes upstream's deadline is
 * already past on arrival and each new certificate would be replaced at once, in a loop.
 */
export function rotationDeadline(certPem: string, random: () => number = Math.random, receivedAt = Date.now()): number {
  const certificate = new X509Certificate(certPem);
  const notBefore = Date.parse(certificate.validFrom);
  const notAfter = Date.parse(certificate.validTo);
  const jittered = notBefore + (notAfter - notBefore) * (0.7 + 0.2 * random());
  return Math.max(jittered, receivedAt + (notAfter - receivedAt) / 2);
}

export interface RotationHooks {
  /** Requests and waits for a new certificate. */
  renew(): Promise<KeyAndCert>;
  /** Puts the new certificate to use. */
  apply(certificate: KeyAndCert): void;
  onError?(error: Error): void;
  now?: () => number;
  random?: () => number;
}

export class ClientCertificateRotation {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private retryMs = FIRST_RETRY_MS;
  private deadline: number;

  constructor(current: KeyAndCert, private readonly hooks: RotationHooks) {
    this.deadline = rotationDeadline(current.certPem, hooks.random, this.now());
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private now(): number {
    return this.hooks.now?.() ?? Date.now();
  }

  private schedule(): void {
    if (this.stopped) return;
    const wait = Math.max(0, Math.min(this.deadline - this.now(), MAX_TIMER_MS));
    this.timer = setTimeout(() => void this.tick(), wait);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.now() < this.deadline) return this.schedule();
    try {
      const next = await this.hooks.renew();
      if (this.stopped) return;
      this.hooks.apply(next);
      this.retryMs = FIRST_RETRY_MS;
      this.deadline = rotationDeadline(next.certPem, this.hooks.random, this.now());
    } catch (error) {
      if (this.stopped) return;
      this.hooks.onError?.(error as Error);
      this.deadline = this.now() + this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    }
    this.schedule();
  }
}
