/**
 * The CSR signing controller (upstream's csrsigning, kcm's certificatesigningrequest-signing-
 * controller): an approved CertificateSigningRequest for one of the built-in signers gets a
 * certificate signed by the cluster CA in status.certificate; one that breaks its signer's rules
 * gets the Failed condition (SignerValidationFailure) instead. Signers:
 * - kubernetes.io/kube-apiserver-client: any subject, usages within digital signature, key
 *   encipherment and client auth (client auth required);
 * - kubernetes.io/kube-apiserver-client-kubelet: CN system:node:<name>, O system:nodes only,
 *   client auth + digital signature (key encipherment allowed), no names;
 * - kubernetes.io/kubelet-serving: the same subject, server auth + digital signature (key
 *   encipherment allowed), DNS and IP names only, at least one.
 * Lifetime: spec.expirationSeconds capped at --cluster-signing-duration (default one year).
 */
import { ApiError } from '../api/status.js';
import { CERTIFICATE_SIGNING_REQUESTS } from '../client/resource-types.js';
import { readCertificateRequest, signCertificateRequest, type CertificateRequestInfo, type KeyAndCert } from '../auth/pki.js';
import { hasCondition } from '../registry/certificate-signing-requests.js';
import { nowRfc3339 } from '../api/object.js';
import type { Obj } from '../registry/strategy.js';
import type { ControllerDefinition } from './manager.js';
import { startReconciler } from './reconciler.js';

/** Settings carrying the cluster CA (PEM) the signer signs with. */
export const SIGNING_CERT_SETTING = 'cluster-signing-cert';
export const SIGNING_KEY_SETTING = 'cluster-signing-key';
const DEFAULT_SIGNING_DURATION_MS = 365 * 24 * 3600 * 1000;

const CLIENT = 'kubernetes.io/kube-apiserver-client';
const KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
const KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
export const BUILT_IN_SIGNERS = [CLIENT, KUBELET_CLIENT, KUBELET_SERVING];

/** What is wrong with the request for its signer, or undefined when it may be signed. */
export function signerProblem(signerName: string, usages: readonly string[], request: CertificateRequestInfo): string | undefined {
  if (!request.signatureValid) return 'the certificate request signature does not verify';
  const only = (allowed: string[], required: string[]) => {
    const extra = usages.filter((usage) => !allowed.includes(usage));
    if (extra.length) return `usages did not match: ${extra.join(', ')} not allowed`;
    const missing = required.filter((usage) => !usages.includes(usage));
    return missing.length ? `usages did not match: missing ${missing.join(', ')}` : undefined;
  };
  if (signerName === CLIENT) return only(['digital signature', 'key encipherment', 'client auth'], ['client auth']);
  // Both kubelet signers: the node's identity, nothing else.
  if (!request.subjectCommonName.startsWith('system:node:') || request.subjectCommonName === 'system:node:') return 'subject common name does not begin with system:node:';
  if (request.organizations.length !== 1 || request.organizations[0] !== 'system:nodes') return 'subject organization is not system:nodes';
  if (request.otherNames.length) return 'email addresses and URIs are not allowed';
  if (signerName === KUBELET_CLIENT) {
    if (request.dnsNames.length || request.ipAddresses.length) return 'DNS and IP subjectAltNames are not allowed';
    return only(['digital signature', 'key encipherment', 'client auth'], ['digital signature', 'client auth']);
  }
  if (request.dnsNames.length + request.ipAddresses.length === 0) return 'at least one DNS or IP subjectAltName is required';
  return only(['digital signature', 'key encipherment', 'server auth'], ['digital signature', 'server auth']);
}

export const certificateSignerController: ControllerDefinition = {
  name: 'certificatesigningrequest-signing-controller',
  aliases: ['csrsigning'],
  serviceAccount: 'certificate-controller',
  flags: [{ name: 'cluster-signing-duration', kind: 'duration', default: DEFAULT_SIGNING_DURATION_MS, description: 'The longest lifetime of a certificate the built-in signers issue (a shorter spec.expirationSeconds is honoured).' }],
  start(context) {
    const ca: KeyAndCert = { certPem: String(context.settings[SIGNING_CERT_SETTING] ?? ''), keyPem: String(context.settings[SIGNING_KEY_SETTING] ?? '') };
    if (!ca.certPem || !ca.keyPem) throw new Error(`${certificateSignerController.name} needs the ${SIGNING_CERT_SETTING} and ${SIGNING_KEY_SETTING} settings`);
    const maxDurationMs = Number(context.settings['cluster-signing-duration'] ?? DEFAULT_SIGNING_DURATION_MS);
    const requests = context.informers.informer(CERTIFICATE_SIGNING_REQUESTS);
    const queue = context.newQueue('certificate');
    const enqueue = (csr: Obj) => queue.add(csr.metadata.name!);
    const handlers = [requests.addEventHandler({ onAdd: enqueue, onUpdate: (_old, csr) => enqueue(csr) })];

    async function reconcile(name: string) {
      const csr = requests.lister.get(undefined, name);
      if (!csr || !BUILT_IN_SIGNERS.includes(csr.spec?.signerName)) return;
      if (!hasCondition(csr, 'Approved') || hasCondition(csr, 'Denied') || hasCondition(csr, 'Failed') || csr.status?.certificate) return;
      const pem = Buffer.from(String(csr.spec.request ?? ''), 'base64').toString('utf8');
      const usages: string[] = Array.isArray(csr.spec.usages) ? csr.spec.usages : [];
      let problem: string | undefined;
      try {
        problem = signerProblem(csr.spec.signerName, usages, await readCertificateRequest(pem));
      } catch (error) {
        problem = `unable to parse csr: ${(error as Error).message}`;
      }
      const status: Obj['status'] = { ...(csr.status ?? {}) };
      if (problem) {
        const now = nowRfc3339();
        status.conditions = [...(status.conditions ?? []), { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: problem, lastUpdateTime: now, lastTransitionTime: now }];
      } else {
        const requestedMs = Number.isInteger(csr.spec.expirationSeconds) ? csr.spec.expirationSeconds * 1000 : Infinity;
        const certificate = await signCertificateRequest(ca, pem, { usages, notAfter: new Date(Date.now() + Math.min(requestedMs, maxDurationMs)) });
        status.certificate = Buffer.from(certificate).toString('base64');
      }
      try {
        await context.client.update(CERTIFICATE_SIGNING_REQUESTS, undefined, name, { ...csr, status }, { subresource: 'status' });
      } catch (error) {
        // Gone, or changed meanwhile (the update event brings it back).
        if (error instanceof ApiError && (error.code === 404 || error.code === 409)) return;
        throw error;
      }
    }

    return startReconciler({ context, queue, informers: [requests], reconcile, handlers });
  },
};
