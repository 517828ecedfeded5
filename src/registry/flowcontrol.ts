/**
 * flowcontrol.apiserver.k8s.io/v1 FlowSchema and PriorityLevelConfiguration: the configuration
 * API Priority and Fairness (src/flowcontrol/) classifies and queues requests by.
 */
import { fieldErrors, type FieldError } from '../api/status.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';
import { validateOneOf } from './common/validation.js';

const GROUP = 'flowcontrol.apiserver.k8s.io';
const SUBJECT_KINDS = ['User', 'Group', 'ServiceAccount'];
const DISTINGUISHER_TYPES = ['ByUser', 'ByNamespace'];
const PRIORITY_LEVEL_TYPES = ['Exempt', 'Limited'];
const LIMIT_RESPONSE_TYPES = ['Queue', 'Reject'];
const MAX_MATCHING_PRECEDENCE = 10_000;
const MAX_HAND_SIZE = 8;

// Input is whatever a client sent: look into objects and lists only where they are ones.
const isObject = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const objectOr = (value: unknown): Obj => (isObject(value) ? value : ({} as Obj));
const listOf = (value: unknown): Obj[] => (Array.isArray(value) ? value.map(objectOr) : []);

/** Upstream's v1 defaults for a FlowSchema. */
function defaultFlowSchema(flowSchema: Obj): void {
  const spec = (flowSchema.spec ??= {});
  if (!isObject(spec)) return;
  spec.matchingPrecedence ??= 1000;
}

/** Upstream's v1 defaults for a PriorityLevelConfiguration (queuing 64 / 8 / 50, shares 30). */
function defaultPriorityLevel(level: Obj): void {
  const spec = (level.spec ??= {});
  if (!isObject(spec)) return;
  if (spec.type === 'Limited' && isObject(spec.limited)) {
    spec.limited.nominalConcurrencyShares ??= 30;
    spec.limited.lendablePercent ??= 0;
    const response = (spec.limited.limitResponse ??= { type: 'Reject' });
    if (isObject(response) && response.type === 'Queue') {
      const queuing = (response.queuing ??= {});
      if (!isObject(queuing)) return;
      queuing.queues ??= 64;
      queuing.handSize ??= 8;
      queuing.queueLengthLimit ??= 50;
    }
  }
  if (spec.type === 'Exempt') {
    const exempt = (spec.exempt ??= {});
    if (!isObject(exempt)) return;
    exempt.nominalConcurrencyShares ??= 0;
    exempt.lendablePercent ??= 0;
  }
}

function validateSubject(subject: Obj, field: string): FieldError[] {
  const errs = validateOneOf(subject.kind, `${field}.kind`, SUBJECT_KINDS, true);
  if (subject.kind === 'User' && !subject.user?.name) errs.push(fieldErrors.required(`${field}.user.name`, 'username is required'));
  if (subject.kind === 'Group' && !subject.group?.name) errs.push(fieldErrors.required(`${field}.group.name`, 'name is required'));
  if (subject.kind === 'ServiceAccount') {
    if (!subject.serviceAccount?.name) errs.push(fieldErrors.required(`${field}.serviceAccount.name`, 'name is required'));
    if (!subject.serviceAccount?.namespace) errs.push(fieldErrors.required(`${field}.serviceAccount.namespace`, 'namespace is required'));
  }
  return errs;
}

function nonEmpty(list: unknown, field: string, what: string): FieldError[] {
  return Array.isArray(list) && list.length > 0 ? [] : [fieldErrors.required(field, `${what} must contain at least one value`)];
}

function validateFlowSchema(flowSchema: Obj): FieldError[] {
  const spec = objectOr(flowSchema.spec);
  const errs: FieldError[] = [];
  if (typeof objectOr(spec.priorityLevelConfiguration).name !== 'string' || !spec.priorityLevelConfiguration.name) errs.push(fieldErrors.required('spec.priorityLevelConfiguration.name', 'must reference a priority level'));
  const precedence = spec.matchingPrecedence;
  if (!Number.isInteger(precedence) || precedence <= 0 || precedence > MAX_MATCHING_PRECEDENCE) {
    errs.push(fieldErrors.invalid('spec.matchingPrecedence', precedence, `must be between 1 and ${MAX_MATCHING_PRECEDENCE} inclusively`));
  }
  if (spec.distinguisherMethod) errs.push(...validateOneOf(objectOr(spec.distinguisherMethod).type, 'spec.distinguisherMethod.type', DISTINGUISHER_TYPES, true));
  listOf(spec.rules).forEach((rule, i) => {
    const field = `spec.rules[${i}]`;
    errs.push(...nonEmpty(rule.subjects, `${field}.subjects`, 'subjects'));
    listOf(rule.subjects).forEach((subject, j) => errs.push(...validateSubject(subject, `${field}.subjects[${j}]`)));
    if (!listOf(rule.resourceRules).length && !listOf(rule.nonResourceRules).length) {
      errs.push(fieldErrors.required(`${field}`, 'at least one of resourceRules and nonResourceRules has to be non-empty'));
    }
    listOf(rule.resourceRules).forEach((resourceRule, j) => {
      const at = `${field}.resourceRules[${j}]`;
      errs.push(...nonEmpty(resourceRule.verbs, `${at}.verbs`, 'verbs'), ...nonEmpty(resourceRule.apiGroups, `${at}.apiGroups`, 'resource rules'), ...nonEmpty(resourceRule.resources, `${at}.resources`, 'resource rules'));
      if (!resourceRule.clusterScope && !(Array.isArray(resourceRule.namespaces) && resourceRule.namespaces.length)) errs.push(fieldErrors.required(`${at}.namespaces`, 'resource rules that are not cluster scoped must supply at least one namespace'));
    });
    listOf(rule.nonResourceRules).forEach((nonResourceRule, j) => {
      const at = `${field}.nonResourceRules[${j}]`;
      errs.push(...nonEmpty(nonResourceRule.verbs, `${at}.verbs`, 'verbs'), ...nonEmpty(nonResourceRule.nonResourceURLs, `${at}.nonResourceURLs`, 'nonResourceURLs'));
    });
  });
  return errs;
}

function validatePriorityLevel(level: Obj): FieldError[] {
  const spec = objectOr(level.spec);
  const errs = validateOneOf(spec.type, 'spec.type', PRIORITY_LEVEL_TYPES, true);
  const name = level.metadata.name;
  if (name === 'exempt' && spec.type !== 'Exempt') errs.push(fieldErrors.invalid('spec.type', spec.type, 'type must be Exempt if and only if name is exempt'));
  if (spec.type === 'Exempt') {
    if (name !== 'exempt') errs.push(fieldErrors.invalid('spec.type', spec.type, 'type must be Exempt if and only if name is exempt'));
    if (spec.limited) errs.push(fieldErrors.forbidden('spec.limited', 'must be nil if the type is not Limited'));
  }
  if (spec.type === 'Limited') {
    const limited = isObject(spec.limited) ? spec.limited : undefined;
    if (!limited) return [...errs, fieldErrors.required('spec.limited', 'must not be empty when type is Limited')];
    if (spec.exempt) errs.push(fieldErrors.forbidden('spec.exempt', 'must be nil if the type is Limited'));
    const shares = limited.nominalConcurrencyShares;
    if (!Number.isInteger(shares) || shares < 0) errs.push(fieldErrors.invalid('spec.limited.nominalConcurrencyShares', shares, 'must be a non-negative integer'));
    const lendable = limited.lendablePercent;
    if (!Number.isInteger(lendable) || lendable < 0 || lendable > 100) errs.push(fieldErrors.invalid('spec.limited.lendablePercent', lendable, 'must be between 0 and 100, inclusive'));
    const response = objectOr(limited.limitResponse);
    errs.push(...validateOneOf(response.type, 'spec.limited.limitResponse.type', LIMIT_RESPONSE_TYPES, true));
    if (response.type === 'Reject' && response.queuing) errs.push(fieldErrors.forbidden('spec.limited.limitResponse.queuing', 'must be nil if limited.limitResponse.type is not Limited'));
    if (response.type === 'Queue') {
      const { queues, handSize, queueLengthLimit } = objectOr(response.queuing);
      const at = 'spec.limited.limitResponse.queuing';
      if (!Number.isInteger(queueLengthLimit) || queueLengthLimit <= 0) errs.push(fieldErrors.invalid(`${at}.queueLengthLimit`, queueLengthLimit, 'must be positive'));
      if (!Number.isInteger(queues) || queues <= 0) errs.push(fieldErrors.invalid(`${at}.queues`, queues, 'must be positive'));
      if (!Number.isInteger(handSize) || handSize <= 0) errs.push(fieldErrors.invalid(`${at}.handSize`, handSize, 'must be positive'));
      else if (Number.isInteger(queues) && handSize > queues) errs.push(fieldErrors.invalid(`${at}.handSize`, handSize, `should not be greater than queues (${queues})`));
      else if (handSize > MAX_HAND_SIZE && queues > 1) errs.push(fieldErrors.invalid(`${at}.handSize`, handSize, `required entropy bits of deckSize ${queues} and handSize ${handSize} should not be greater than 60`));
    }
  }
  return errs;
}

/** Upstream prints "?" until the configuration controller has judged the reference. */
function danglingCell(flowSchema: Obj): string {
  const condition = listOf(objectOr(flowSchema.status).conditions).find((c) => c.type === 'Dangling');
  return condition?.status ?? '?';
}

export const flowSchemas: KindStrategy = {
  group: GROUP,
  version: 'v1',
  kind: 'FlowSchema',
  plural: 'flowschemas',
  singular: 'flowschema',
  namespaced: false,
  statusSubresource: true,
  generation: true,
  defaults: defaultFlowSchema,
  validate: validateFlowSchema,
  columns: [
    { name: 'PriorityLevel', type: 'string', description: "priorityLevelConfiguration should reference a PriorityLevelConfiguration in the cluster. If the reference cannot be resolved, the FlowSchema will be ignored and marked as invalid in its status. Required.", cell: (f) => f.spec?.priorityLevelConfiguration?.name ?? '' },
    { name: 'MatchingPrecedence', type: 'string', description: "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request. The chosen FlowSchema is among those with the numerically lowest (which we take to be logically highest) MatchingPrecedence.  Each MatchingPrecedence value must be ranged in [1,10000]. Note that if the precedence is not specified, it will be set to 1000 as default.", cell: (f) => String(f.spec?.matchingPrecedence ?? '') },
    { name: 'DistinguisherMethod', type: 'string', description: "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema. `nil` specifies that the distinguisher is disabled and thus will always be the empty string.", cell: (f) => f.spec?.distinguisherMethod?.type ?? '<none>' },
    ageColumn,
    { name: 'MissingPL', type: 'string', description: 'indicates if the priority level is missing', cell: danglingCell },
  ],
};

export const priorityLevelConfigurations: KindStrategy = {
  group: GROUP,
  version: 'v1',
  kind: 'PriorityLevelConfiguration',
  plural: 'prioritylevelconfigurations',
  singular: 'prioritylevelconfiguration',
  namespaced: false,
  statusSubresource: true,
  generation: true,
  defaults: defaultPriorityLevel,
  validate: validatePriorityLevel,
  columns: [
    { name: 'Type', type: 'string', description: '`type` indicates whether this priority level is subject to limitation on request execution.', cell: (p) => p.spec?.type ?? '' },
    { name: 'NominalConcurrencyShares', type: 'string', description: 'nominalConcurrencyShares', cell: (p) => (p.spec?.type === 'Limited' ? String(p.spec.limited?.nominalConcurrencyShares ?? '') : '<none>') },
    { name: 'Queues', type: 'string', description: 'queues', cell: (p) => queuingCell(p, 'queues') },
    { name: 'HandSize', type: 'string', description: 'handSize', cell: (p) => queuingCell(p, 'handSize') },
    { name: 'QueueLengthLimit', type: 'string', description: 'queueLengthLimit', cell: (p) => queuingCell(p, 'queueLengthLimit') },
    ageColumn,
  ],
};

function queuingCell(level: Obj, field: 'queues' | 'handSize' | 'queueLengthLimit'): string {
  const queuing = objectOr(objectOr(objectOr(objectOr(level.spec).limited).limitResponse).queuing);
  return Object.keys(queuing).length ? String(queuing[field] ?? '') : '<none>';
}
