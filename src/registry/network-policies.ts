/** networking.k8s.io/v1 NetworkPolicy. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy } from './strategy.js';
import { ageColumn, formatLabelSelector } from './common/printing.js';
import { validateLabelSelector, validateOneOf, validatePort } from './common/validation.js';
import { isCidr } from './common/network.js';
import { type Fields, listAt, mapAt, valuesAt } from './common/fields.js';

const POLICY_TYPES = ['Ingress', 'Egress'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function rulesOf(spec: Fields): Array<{ rules: Fields[]; field: string; peers: string }> {
  return [
    { rules: listAt(spec, 'ingress'), field: 'spec.ingress', peers: 'from' },
    { rules: listAt(spec, 'egress'), field: 'spec.egress', peers: 'to' },
  ];
}

function validatePolicyPort(port: Fields, field: string): FieldError[] {
  const errs = validateOneOf(port?.protocol, `${field}.protocol`, PROTOCOLS);
  const value = port?.port;
  if (typeof value === 'number') errs.push(...validatePort(value, `${field}.port`));
  else if (typeof value === 'string' && !(PORT_NAME.test(value) && value.length <= 15 && /[a-z]/.test(value))) {
    errs.push(fieldErrors.invalid(`${field}.port`, value, 'must be a port number or an IANA service name'));
  }
  if (port?.endPort !== undefined) {
    if (typeof value !== 'number') errs.push(fieldErrors.required(`${field}.port`, 'must be specified when endPort is specified'));
    else if (port.endPort < value) errs.push(fieldErrors.invalid(`${field}.endPort`, port.endPort, 'must be greater than or equal to `port`'));
  }
  return errs;
}

function validatePeer(peer: Fields, field: string): FieldError[] {
  const errs = [...validateLabelSelector(peer?.podSelector, `${field}.podSelector`), ...validateLabelSelector(peer?.namespaceSelector, `${field}.namespaceSelector`)];
  const block = peer?.ipBlock;
  if (block === undefined) {
    if (peer?.podSelector === undefined && peer?.namespaceSelector === undefined) errs.push(fieldErrors.required(field, 'must specify a peer'));
    return errs;
  }
  if (peer.podSelector !== undefined || peer.namespaceSelector !== undefined) errs.push(fieldErrors.forbidden(field, 'may not specify both ipBlock and another peer'));
  if (!isCidr(block?.cidr)) errs.push(fieldErrors.invalid(`${field}.ipBlock.cidr`, block?.cidr ?? '', 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
  valuesAt(block, 'except').forEach((cidr, i) => {
    if (!isCidr(cidr)) errs.push(fieldErrors.invalid(`${field}.ipBlock.except[${i}]`, cidr, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
  });
  return errs;
}

function validateSpec(spec: Fields): FieldError[] {
  const errs = validateLabelSelector(spec.podSelector, 'spec.podSelector');
  const types = valuesAt(spec, 'policyTypes');
  types.forEach((type, i) => errs.push(...validateOneOf(type, `spec.policyTypes[${i}]`, POLICY_TYPES, true)));
  if (types.length > POLICY_TYPES.length) errs.push(fieldErrors.invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
  for (const { rules, field, peers } of rulesOf(spec)) {
    rules.forEach((rule, i) => {
      listAt(rule, 'ports').forEach((port, j) => errs.push(...validatePolicyPort(port, `${field}[${i}].ports[${j}]`)));
      listAt(rule, peers).forEach((peer, j) => errs.push(...validatePeer(peer, `${field}[${i}].${peers}[${j}]`)));
    });
  }
  return errs;
}

export const networkPolicies: KindStrategy = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  singular: 'networkpolicy',
  shortNames: ['netpol'],
  namespaced: true,
  generation: true,

  defaults(policy) {
    const spec = mapAt(policy, 'spec');
    if (!spec) return;
    spec.podSelector ??= {};
    for (const { rules } of rulesOf(spec)) for (const rule of rules) for (const port of listAt(rule, 'ports')) if (isPlainObject(port)) port.protocol ??= 'TCP';
    // A policy restricts ingress always, and egress only once it has egress rules.
    if (listAt(spec, 'policyTypes').length === 0) spec.policyTypes = listAt(spec, 'egress').length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  },
  validate: (policy) => validateSpec(isPlainObject(policy.spec) ? policy.spec : {}),

  columns: [{ name: 'Pod-Selector', type: 'string', description: 'podSelector selects the pods to which this NetworkPolicy object applies.', cell: (p) => formatLabelSelector(p.spec?.podSelector) }, ageColumn],
};
