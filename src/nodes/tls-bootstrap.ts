/**
 * Kubelet TLS bootstrap (upstream's kubelet certificate bootstrap): the node makes a key, sends a
 * CertificateSigningRequest and waits until a signer issued the certificate — for its client
 * certificate (kubernetes.io/kube-apiserver-client-kubelet, `system:node:<name>` in
 * `system:nodes`, sent with a bootstrap token and approved by the csrapproving controller when the
 * token's group may create certificatesigningrequests/nodeclient) and for its serving certificate
 * (kubernetes.io/kubelet-serving, sent as the node; as upstream, nobody approves those
 * automatically: `kubectl certificate approve`).
 */
import { createHash } from 'node:crypto';
import { createCertificateRequest, type KeyAndCert } from '../auth/pki.js';
import type { ApiClient } from '../client/api-client.js';
import { CERTIFICATE_SIGNING_REQUESTS } from '../client/resource-types.js';

export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
const POLL_MS = 250;

export interface CertificateAsk {
  nodeName: string;
  signerName: typeof KUBELET_CLIENT_SIGNER | typeof KUBELET_SERVING_SIGNER;
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Give up after this long (the CSR stays for a person to look at). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Sends the request and resolves with the key and the issued certificate; throws when denied, failed or out of time. */
export async function requestNodeCertificate(client: ApiClient, ask: CertificateAsk): Promise<KeyAndCert> {
  const { keyPem, requestPem } = await createCertificateRequest({ commonName: `system:node:${ask.nodeName}`, organizations: ['system:nodes'], dnsNames: ask.dnsNames, ipAddresses: ask.ipAddresses });
  const usages = ask.signerName === KUBELET_CLIENT_SIGNER ? ['digital signature', 'client auth'] : ['digital signature', 'server auth'];
  // Named after the request, as the kubelet names its CSRs (node-csr-<digest>).
  const name = `${ask.signerName === KUBELET_CLIENT_SIGNER ? 'node-csr' : 'csr'}-${createHash('sha256').update(requestPem).digest('base64url').slice(0, 32).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  await client.create(CERTIFICATE_SIGNING_REQUESTS, undefined, {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(requestPem).toString('base64'), signerName: ask.signerName, usages },
  });
  const deadline = Date.now() + ask.timeoutMs;
  for (;;) {
    const csr = await client.get(CERTIFICATE_SIGNING_REQUESTS, undefined, name);
    const conditions: Array<{ type?: string; status?: string; message?: string }> = csr.status?.conditions ?? [];
    const refused = conditions.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status !== 'False');
    if (refused) throw new Error(`certificate request ${name} for node ${ask.nodeName}: ${refused.type}${refused.message ? `: ${refused.message}` : ''}`);
    if (csr.status?.certificate) return { keyPem, certPem: Buffer.from(csr.status.certificate, 'base64').toString('utf8') };
    if (Date.now() > deadline) throw new Error(`certificate request ${name} for node ${ask.nodeName} was not issued in ${Math.round(ask.timeoutMs / 1000)} s (approve it: kubectl certificate approve ${name})`);
    if (ask.signal?.aborted) throw new Error('stopped');
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
