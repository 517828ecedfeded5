/** batch/v1 Job. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject, jsonEqual } from '../api/object.js';
import { matchesLabels, selectorFromSpec } from '../api/selectors.js';
import type { KindStrategy, Obj } from './strategy.js';
import { age, ageColumn, formatLabelSelector, humanDuration, templateColumns } from './common/printing.js';
import { defaultPodTemplate } from './common/pod-spec.js';
import { immutable, validateNonNegativeInteger, validateOneOf } from './common/validation.js';
import { validateSelectorAndTemplate } from './common/workload.js';
import { type Fields, listAt, mapAt } from './common/fields.js';

export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
/** Pre-1.27 label names, still set for selectors written against them. */
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';

export const JOB_RESTART_POLICIES = ['OnFailure', 'Never'];
const COMPLETION_MODES = ['NonIndexed', 'Indexed'];
const POD_REPLACEMENT_POLICIES = ['TerminatingOrFailed', 'Failed'];
const DEFAULT_BACKOFF_LIMIT = 6;
const MAX_INT32 = 2147483647;

/** Job spec defaults (upstream SetDefaults_Job). */
function defaultJobSpec(spec: Fields): void {
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  spec.parallelism ??= 1;
  spec.completionMode ??= 'NonIndexed';
  // Per-index backoff replaces the global limit, which then only caps the total.
  spec.backoffLimit ??= spec.completionMode === 'Indexed' && spec.backoffLimitPerIndex !== undefined ? MAX_INT32 : DEFAULT_BACKOFF_LIMIT;
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy !== undefined ? 'Failed' : 'TerminatingOrFailed';
  defaultPodTemplate(spec.template);
}

/**
 * Unless the client manages the selector itself, the Job's pods are labelled with its uid and
 * name and the selector picks exactly those pods (upstream generateSelector).
 */
function generateSelector(job: Obj): void {
  const spec = job.spec;
  if (spec.manualSelector === true || !isPlainObject(spec.template)) return;
  const templateMeta = mapAt(spec.template, 'metadata');
  if (!templateMeta) return;
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name ?? '';
  templateMeta.labels = {
    ...(isPlainObject(templateMeta.labels) ? templateMeta.labels : {}),
    [CONTROLLER_UID_LABEL]: uid,
    [JOB_NAME_LABEL]: name,
    [LEGACY_CONTROLLER_UID_LABEL]: uid,
    [LEGACY_JOB_NAME_LABEL]: name,
  };
  spec.selector ??= { matchLabels: { [CONTROLLER_UID_LABEL]: uid } };
}

/** A Job without labels of its own carries its pods' labels. */
function defaultLabelsFromTemplate(job: Obj): void {
  const templateLabels = job.spec?.template?.metadata?.labels;
  if (isPlainObject(templateLabels) && Object.keys(job.metadata.labels ?? {}).length === 0) job.metadata.labels = { ...(templateLabels as Record<string, string>) };
}

/** The checks a Job spec and a CronJob's job template share. */
export function validateJobSpecFields(spec: Fields, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of ['parallelism', 'completions', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes']) {
    errs.push(...validateNonNegativeInteger(spec[key], `${field}.${key}`));
  }
  if (spec.activeDeadlineSeconds !== undefined && !(typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds > 0)) {
    errs.push(fieldErrors.invalid(`${field}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be greater than 0'));
  }
  errs.push(...validateOneOf(spec.completionMode, `${field}.completionMode`, COMPLETION_MODES));
  if (spec.completionMode === 'Indexed' && spec.completions === undefined) {
    errs.push(fieldErrors.required(`${field}.completions`, 'when completion mode is Indexed'));
  }
  errs.push(...validateOneOf(spec.podReplacementPolicy, `${field}.podReplacementPolicy`, POD_REPLACEMENT_POLICIES));
  return errs;
}

function validateGeneratedSelector(job: Obj): FieldError[] {
  const selector = job.spec.selector;
  if (job.spec.manualSelector === true || !isPlainObject(selector)) return [];
  if (matchesLabels(selectorFromSpec(selector), { [CONTROLLER_UID_LABEL]: job.metadata.uid ?? '' })) return [];
  return [fieldErrors.invalid('spec.selector', selector, '`selector` not auto-generated')];
}

function validateJobUpdate(spec: Fields, oldSpec: Fields): FieldError[] {
  const errs = [...immutable('spec.selector', spec.selector, oldSpec.selector), ...immutable('spec.completionMode', spec.completionMode, oldSpec.completionMode)];
  errs.push(...immutable('spec.podFailurePolicy', spec.podFailurePolicy, oldSpec.podFailurePolicy));
  // Indexed jobs may scale completions together with parallelism (elastic indexed jobs).
  const elastic = spec.completionMode === 'Indexed' && spec.completions === spec.parallelism;
  if (!elastic) errs.push(...immutable('spec.completions', spec.completions, oldSpec.completions));
  // A suspended job's template may still change before it starts.
  if (!oldSpec.suspend && !jsonEqual(spec.template, oldSpec.template)) errs.push(fieldErrors.invalid('spec.template', spec.template, 'field is immutable'));
  return errs;
}

function conditionIsTrue(job: Obj, type: string): boolean {
  const condition = listAt(job.status, 'conditions').find((c) => c.type === type);
  return condition?.status === 'True';
}

/** STATUS (upstream printJob, 1.31+). */
function jobStatus(job: Obj): string {
  if (conditionIsTrue(job, 'Complete')) return 'Complete';
  if (conditionIsTrue(job, 'Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (conditionIsTrue(job, 'Suspended')) return 'Suspended';
  if (conditionIsTrue(job, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

/** COMPLETIONS: "1/3", or "0/1 of 4" when only parallelism is set. */
function jobCompletions(job: Obj): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined && job.spec?.completions !== null) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: Obj): string {
  const start = job.status?.startTime;
  if (!start) return '';
  // Running: the time since it started, which changes (an age, printed when the Table is).
  if (!job.status?.completionTime) return age(start);
  return humanDuration(Date.parse(job.status.completionTime) - Date.parse(start));
}

export const jobs: KindStrategy = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  categories: ['all'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  // batch/v1 keeps the pre-GC default: a delete naming no policy orphans the pods.
  defaultGarbageCollectionPolicy: 'OrphanDependents',

  defaults(job) {
    const spec = mapAt(job, 'spec');
    if (spec) defaultJobSpec(spec);
    defaultLabelsFromTemplate(job);
  },
  prepareForCreate(job) {
    job.status = {};
    generateSelector(job);
    defaultLabelsFromTemplate(job);
  },
  validate(job, old) {
    const spec = job.spec;
    if (!isPlainObject(spec)) return [fieldErrors.required('spec')];
    const errs = [...validateSelectorAndTemplate(spec, 'job', JOB_RESTART_POLICIES), ...validateJobSpecFields(spec, 'spec'), ...validateGeneratedSelector(job)];
    if (old) errs.push(...validateJobUpdate(spec, old.spec ?? {}));
    return errs;
  },

  columns: [
    { name: 'Status', type: 'string', description: 'Status of the job.', cell: jobStatus },
    { name: 'Completions', type: 'string', description: 'The number of pods which reached phase Succeeded.', cell: jobCompletions },
    { name: 'Duration', type: 'string', description: 'Time required to complete the job.', cell: jobDuration },
    ageColumn,
    ...templateColumns((j) => j.spec?.template, (j) => formatLabelSelector(j.spec?.selector)),
  ],
  fieldSelectors: {
    'status.successful': (j) => String(j.status?.succeeded ?? 0),
  },
};
