/**
 * The CSR approving controller (upstream's pkg/controller/certificates/approver, kcm's
 * certificatesigningrequest-approving-controller): a pending request for
 * kubernetes.io/kube-apiserver-client-kubelet that is a valid kubelet client request is approved
 * when its requester may `create` certificatesigningrequests/selfnodeclient (the requester renews
 * its own node certificate: spec.username is the request's CN) or /nodeclient (a bootstrapper asks
 * for a node's first certificate), asked as a SubjectAccessReview of the requester recorded in the
 * spec. Approval is the Approved condition (AutoApproved) through /approval; anything else is left
 * for a person (`kubectl certificate approve`).
 */
import { nowRfc3339 } from '../api/object.js';
import { ApiError } from '../api/status.js';
import type { Authorizer } from '../auth/authorization.js';
import { readCertificateRequest, type CertificateRequestInfo } from '../auth/pki.js';
import { CERTIFICATE_SIGNING_REQUESTS } from '../client/resource-types.js';
import { hasCondition } from '../registry/certificate-signing-requests.js';
import type { Obj } from '../registry/strategy.js';
import { signerProblem } from './certificate-signer.js';
import type { ControllerDefinition } from './manager.js';
import { startReconciler } from './reconciler.js';

const KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
/** How often a recognised request whose requester is not (yet) allowed is looked at again. */
const RECHECK_MS = 10_000;

interface Recognizer {
  subresource: 'selfnodeclient' | 'nodeclient';
  recognize(csr: Obj, request: CertificateRequestInfo): boolean;
  message: string;
}

const isNodeClient = (csr: Obj, request: CertificateRequestInfo) =>
  csr.spec?.signerName === KUBELET_CLIENT && signerProblem(KUBELET_CLIENT, Array.isArray(csr.spec.usages) ? csr.spec.usages : [], request) === undefined;

const RECOGNIZERS: readonly Recognizer[] = [
  { subresource: 'selfnodeclient', recognize: (csr, request) => isNodeClient(csr, request) && csr.spec.username === request.subjectCommonName, message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' },
  { subresource: 'nodeclient', recognize: isNodeClient, message: 'Auto approving kubelet client certificate after SubjectAccessReview.' },
];

/** The requester, as the CSR recorded it, may create the given certificatesigningrequests subresource. */
function requesterMay(authorizer: Authorizer, csr: Obj, subresource: string): boolean {
  const spec = csr.spec ?? {};
  const user = { name: String(spec.username ?? ''), uid: spec.uid, groups: Array.isArray(spec.groups) ? spec.groups : [], extra: spec.extra };
  return authorizer.authorize({ user, verb: 'create', isResourceRequest: true, group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource }).allowed;
}

export const certificateApproverController: ControllerDefinition = {
  name: 'certificatesigningrequest-approving-controller',
  aliases: ['csrapproving'],
  serviceAccount: 'certificate-controller',
  start(context) {
    const authorizer = context.authorizer;
    if (!authorizer) throw new Error('certificatesigningrequest-approving-controller needs the server authorizer');
    const requests = context.informers.informer(CERTIFICATE_SIGNING_REQUESTS);
    const queue = context.newQueue('csrapproving');
    const enqueue = (csr: Obj) => queue.add(csr.metadata.name!);
    const handlers = [requests.addEventHandler({ onAdd: enqueue, onUpdate: (_old, csr) => enqueue(csr) })];

    async function reconcile(name: string) {
      const csr = requests.lister.get(undefined, name);
      if (!csr || csr.status?.certificate || hasCondition(csr, 'Approved') || hasCondition(csr, 'Denied') || csr.spec?.signerName !== KUBELET_CLIENT) return;
      let request: CertificateRequestInfo;
      try {
        request = await readCertificateRequest(Buffer.from(String(csr.spec.request ?? ''), 'base64').toString('utf8'));
      } catch {
        return; // unparseable: the signer fails it
      }
      const recognized = RECOGNIZERS.filter((r) => r.recognize(csr, request));
      const approving = recognized.find((r) => requesterMay(authorizer!, csr, r.subresource));
      if (!approving) return recognized.length ? { requeueAfterMs: RECHECK_MS } : undefined;
      const now = nowRfc3339();
      const conditions = [...(csr.status?.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved', message: approving.message, lastUpdateTime: now, lastTransitionTime: now }];
      try {
        await context.client.update(CERTIFICATE_SIGNING_REQUESTS, undefined, name, { ...csr, status: { ...(csr.status ?? {}), conditions } }, { subresource: 'approval' });
      } catch (error) {
        if (error instanceof ApiError && (error.code === 404 || error.code === 409)) return;
        throw error;
      }
    }

    return startReconciler({ context, queue, informers: [requests], reconcile, handlers });
  },
};
