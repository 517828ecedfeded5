/**
 * certificates.k8s.io/v1 CertificateSigningRequest: a PKCS#10 request for a signer. The requester
 * is recorded from who created it (spec.username/uid/groups/extra, as upstream); the spec is
 * immutable; /approval writes the Approved or Denied condition, /status the certificate (the
 * signer controller, src/controllers/certificate-signer.ts).
 */
import { fieldErrors, type FieldError } from '../api/status.js';
import type { UserInfo } from '../auth/authenticate.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn, humanDuration } from './common/printing.js';
import { qualifiedNameErrors } from './common/validation.js';

const KEY_USAGES = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment', 'cert sign', 'crl sign', 'encipher only', 'decipher only',
  'any', 'server auth', 'client auth', 'code signing', 'email protection', 's/mime', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing', 'microsoft sgc', 'netscape sgc',
];
const CONDITION_TYPES = ['Approved', 'Denied', 'Failed'];
const MIN_EXPIRATION_SECONDS = 600;

const isObject = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const conditionsOf = (csr: Obj): Obj[] => (isObject(csr.status) && Array.isArray(csr.status.conditions) ? csr.status.conditions.filter(isObject) : []);

export function hasCondition(csr: Obj, type: string): boolean {
  return conditionsOf(csr).some((condition) => condition.type === type && condition.status !== 'False');
}

function validate(csr: Obj, old?: Obj): FieldError[] {
  const spec: Obj = isObject(csr.spec) ? csr.spec : ({} as Obj);
  const errs: FieldError[] = [];
  if (typeof spec.request !== 'string' || spec.request === '') errs.push(fieldErrors.required('spec.request'));
  else if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(Buffer.from(spec.request, 'base64').toString('latin1'))) {
    errs.push(fieldErrors.invalid('spec.request', '<omitted>', 'PEM block type must be CERTIFICATE REQUEST'));
  }
  if (typeof spec.signerName !== 'string' || spec.signerName === '') errs.push(fieldErrors.required('spec.signerName'));
  else {
    const problems = spec.signerName.includes('/') ? qualifiedNameErrors(spec.signerName) : ['should be a domain with at least two segments separated by dots'];
    for (const problem of problems) errs.push(fieldErrors.invalid('spec.signerName', spec.signerName, problem));
  }
  if (spec.expirationSeconds !== undefined && (!Number.isInteger(spec.expirationSeconds) || spec.expirationSeconds < MIN_EXPIRATION_SECONDS)) {
    errs.push(fieldErrors.invalid('spec.expirationSeconds', spec.expirationSeconds, `may not specify a duration less than 10m0s`));
  }
  if (!Array.isArray(spec.usages) || spec.usages.length === 0) errs.push(fieldErrors.required('spec.usages'));
  else spec.usages.forEach((usage: unknown, i: number) => {
    if (!KEY_USAGES.includes(usage as string)) errs.push(fieldErrors.notSupported(`spec.usages[${i}]`, usage, KEY_USAGES));
  });
  const conditions = conditionsOf(csr);
  conditions.forEach((condition, i) => {
    if (!condition.type) errs.push(fieldErrors.required(`status.conditions[${i}].type`));
    if (CONDITION_TYPES.includes(condition.type) && condition.status !== 'True') {
      errs.push(fieldErrors.notSupported(`status.conditions[${i}].status`, condition.status, ['True']));
    }
  });
  if (hasCondition(csr, 'Approved') && hasCondition(csr, 'Denied')) errs.push(fieldErrors.invalid('status.conditions', 'Approved', 'Approved and Denied conditions are mutually exclusive'));
  if (old) {
    if (JSON.stringify(csr.spec) !== JSON.stringify(old.spec)) errs.push(fieldErrors.invalid('spec', '<omitted>', 'field is immutable'));
    for (const type of CONDITION_TYPES) {
      if (hasCondition(old, type) && !hasCondition(csr, type)) errs.push(fieldErrors.forbidden('status.conditions', `updates may not remove a condition of type "${type}"`));
    }
    const oldCertificate = isObject(old.status) ? old.status.certificate : undefined;
    if (oldCertificate && (!isObject(csr.status) || csr.status.certificate !== oldCertificate)) errs.push(fieldErrors.invalid('status.certificate', '<omitted>', 'field is immutable once set'));
  }
  return errs;
}

/** Upstream's CONDITION column: the condition types, then Issued; Pending when there are none. */
function conditionCell(csr: Obj): string {
  const parts = conditionsOf(csr).filter((condition) => condition.status !== 'False').map((condition) => String(condition.type));
  if (isObject(csr.status) && csr.status.certificate) parts.push('Issued');
  return parts.length ? parts.join(',') : 'Pending';
}

export const certificateSigningRequests: KindStrategy = {
  group: 'certificates.k8s.io',
  version: 'v1',
  kind: 'CertificateSigningRequest',
  plural: 'certificatesigningrequests',
  singular: 'certificatesigningrequest',
  shortNames: ['csr'],
  namespaced: false,
  statusSubresource: true,

  prepareForCreate(csr, user?: UserInfo) {
    csr.status = {};
    const spec: Obj = isObject(csr.spec) ? csr.spec : (csr.spec = {} as Obj);
    delete spec.username;
    delete spec.uid;
    delete spec.groups;
    delete spec.extra;
    if (user) {
      spec.username = user.name;
      if (user.uid) spec.uid = user.uid;
      if (user.groups.length) spec.groups = [...user.groups];
      if (user.extra && Object.keys(user.extra).length) spec.extra = structuredClone(user.extra);
    }
  },
  validate,

  columns: [
    ageColumn,
    { name: 'SignerName', type: 'string', description: 'signerName indicates the requested signer, and is a qualified name.', cell: (c) => c.spec?.signerName ?? '' },
    { name: 'Requestor', type: 'string', description: 'username contains the name of the user that created the CertificateSigningRequest.', cell: (c) => c.spec?.username ?? '' },
    {
      name: 'RequestedDuration',
      type: 'string',
      description: 'expirationSeconds is the requested duration of validity of the issued certificate.',
      cell: (c) => (Number.isInteger(c.spec?.expirationSeconds) ? humanDuration(c.spec.expirationSeconds * 1000) : '<none>'),
    },
    { name: 'Condition', type: 'string', description: 'conditions applied to the request. Known conditions are "Approved", "Denied", and "Failed".', cell: conditionCell },
  ],
};
