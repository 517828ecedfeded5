/**
 * The CertificateSigningRequest admission plugins (upstream's plugin/pkg/admission/certificates):
 * - CertificateApproval: writing /approval needs `approve` on the `signers` resource named by the
 *   request's signerName (or `<domain>/*`), beyond `update` on certificatesigningrequests/approval;
 * - CertificateSigning: changing status.certificate or the conditions through /status needs `sign`
 *   on that signer;
 * - CertificateSubjectRestriction: no request for kubernetes.io/kube-apiserver-client may ask for
 *   the system:masters group.
 * Refusals are upstream's Forbidden: `certificatesigningrequests.certificates.k8s.io "x" is
 * forbidden: user not permitted to approve requests with signerName "…"`.
 */
import type { UserInfo } from '../../auth/authenticate.js';
import type { Authorizer } from '../../auth/authorization.js';
import { readCertificateRequest } from '../../auth/pki.js';
import type { Obj } from '../../registry/strategy.js';
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from '../admission.js';

const GROUP = 'certificates.k8s.io';

/** Upstream's IsAuthorizedForSignerName: the exact signer, then its domain's wildcard. */
export function authorizedForSigner(authorizer: Authorizer, user: UserInfo, verb: 'approve' | 'sign', signerName: string): boolean {
  const ask = (name: string) => authorizer.authorize({ user, verb, isResourceRequest: true, group: GROUP, version: '*', resource: 'signers', name }).allowed;
  return ask(signerName) || ask(`${signerName.split('/')[0]}/*`);
}

function csrUpdate(attributes: AdmissionAttributes, subresource: string): boolean {
  return attributes.operation === 'UPDATE' && attributes.resource.group === GROUP && attributes.resource.resource === 'certificatesigningrequests' && attributes.subresource === subresource;
}

const signerOf = (csr: Obj | undefined): string => String(csr?.spec?.signerName ?? '');

/** A plugin that asks for `verb` on the request's signer when `subresource` is written and `applies`. */
function signerPermission(name: string, subresource: string, verb: 'approve' | 'sign', applies: (attributes: AdmissionAttributes) => boolean) {
  return (authorizer: () => Authorizer | undefined): AdmissionPlugin => ({
    name,
    validate(attributes) {
      const auth = authorizer();
      if (!csrUpdate(attributes, subresource) || !attributes.user || !auth || !applies(attributes)) return;
      // The stored signer (the spec is immutable; upstream reads the old object for signing).
      const signer = signerOf(attributes.oldObject ?? attributes.object);
      if (!authorizedForSigner(auth, attributes.user, verb, signer)) throw admissionForbidden(attributes, `user not permitted to ${verb} requests with signerName ${JSON.stringify(signer)}`);
    },
  });
}

export const certificateApproval = signerPermission('CertificateApproval', 'approval', 'approve', () => true);

/** Only when the certificate or the conditions change. */
export const certificateSigning = signerPermission('CertificateSigning', 'status', 'sign', ({ oldObject, object }) => {
  const before = oldObject?.status ?? {};
  const after = object?.status ?? {};
  return before.certificate !== after.certificate || JSON.stringify(before.conditions ?? []) !== JSON.stringify(after.conditions ?? []);
});

export function certificateSubjectRestriction(): AdmissionPlugin {
  return {
    name: 'CertificateSubjectRestriction',
    async validate(attributes) {
      if (attributes.operation !== 'CREATE' || attributes.resource.group !== GROUP || attributes.resource.resource !== 'certificatesigningrequests' || attributes.subresource) return;
      if (signerOf(attributes.object) !== 'kubernetes.io/kube-apiserver-client') return;
      const pem = Buffer.from(String(attributes.object?.spec?.request ?? ''), 'base64').toString('utf8');
      let organizations: string[];
      try {
        organizations = (await readCertificateRequest(pem)).organizations;
      } catch {
        return; // validation reports an unreadable request
      }
      if (organizations.includes('system:masters')) throw admissionForbidden(attributes, 'use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed');
    },
  };
}
