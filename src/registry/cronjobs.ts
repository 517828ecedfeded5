/** batch/v1 CronJob. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { age, ageColumn, formatLabelSelector, templateColumns } from './common/printing.js';
import { defaultPodTemplate } from './common/pod-spec.js';
import { cronScheduleError, isValidTimeZone } from './common/cron.js';
import { validateNonNegativeInteger, validateOneOf } from './common/validation.js';
import { validateTemplate } from './common/workload.js';
import { JOB_RESTART_POLICIES, validateJobSpecFields } from './jobs.js';
import { type Fields, mapAt } from './common/fields.js';

const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];
/** Jobs are named <cronjob>-<minutes since epoch> and must stay within 63 characters. */
const MAX_NAME_LENGTH = 52;

function validateSchedule(spec: Fields): FieldError[] {
  const schedule = spec.schedule;
  if (typeof schedule !== 'string' || schedule === '') return [fieldErrors.required('spec.schedule')];
  if (/^(CRON_)?TZ=/.test(schedule.trim())) return [fieldErrors.invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead')];
  const problem = cronScheduleError(schedule);
  return problem ? [fieldErrors.invalid('spec.schedule', schedule, problem)] : [];
}

function validateTimeZone(zone: unknown): FieldError[] {
  if (zone === undefined || zone === null) return [];
  if (typeof zone !== 'string' || zone.trim() !== zone || zone === '' || !isValidTimeZone(zone)) {
    return [fieldErrors.invalid('spec.timeZone', zone, `unknown time zone ${String(zone)}`)];
  }
  return [];
}

function validateCronJob(cronJob: Obj): FieldError[] {
  const spec: Fields = cronJob.spec;
  const errs: FieldError[] = [];
  const name = cronJob.metadata.name ?? '';
  if (name.length > MAX_NAME_LENGTH) errs.push(fieldErrors.invalid('metadata.name', name, `must be no more than ${MAX_NAME_LENGTH} characters`));
  errs.push(...validateSchedule(spec), ...validateTimeZone(spec.timeZone));
  errs.push(...validateOneOf(spec.concurrencyPolicy, 'spec.concurrencyPolicy', CONCURRENCY_POLICIES, true));
  for (const key of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) errs.push(...validateNonNegativeInteger(spec[key], `spec.${key}`));
  const jobSpec = spec.jobTemplate?.spec;
  if (!isPlainObject(jobSpec)) errs.push(fieldErrors.required('spec.jobTemplate.spec'));
  else {
    errs.push(...validateJobSpecFields(jobSpec, 'spec.jobTemplate.spec'));
    errs.push(...validateTemplate(jobSpec.template, 'spec.jobTemplate.spec.template', JOB_RESTART_POLICIES));
  }
  return errs;
}

function suspendCell(cronJob: Obj): string {
  const suspend = cronJob.spec?.suspend;
  if (suspend === undefined || suspend === null) return '<unset>';
  return suspend ? 'True' : 'False';
}

export const cronJobs: KindStrategy = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  shortNames: ['cj'],
  categories: ['all'],
  namespaced: true,
  statusSubresource: true,
  generation: true,

  defaults(cronJob) {
    const spec = mapAt(cronJob, 'spec');
    if (!spec) return;
    spec.concurrencyPolicy ??= 'Allow';
    spec.suspend ??= false;
    spec.successfulJobsHistoryLimit ??= 3;
    spec.failedJobsHistoryLimit ??= 1;
    if (isPlainObject(spec.jobTemplate)) {
      spec.jobTemplate.metadata ??= {};
      if (isPlainObject(spec.jobTemplate.spec)) defaultPodTemplate(spec.jobTemplate.spec.template);
    }
  },
  prepareForCreate(cronJob) {
    cronJob.status = {};
  },
  validate(cronJob) {
    if (!isPlainObject(cronJob.spec)) return [fieldErrors.required('spec')];
    return validateCronJob(cronJob);
  },

  columns: [
    { name: 'Schedule', type: 'string', description: 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.', cell: (c) => c.spec?.schedule ?? '' },
    { name: 'Timezone', type: 'string', description: 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.', cell: (c) => c.spec?.timeZone ?? '<none>' },
    { name: 'Suspend', type: 'boolean', description: 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.', cell: suspendCell },
    { name: 'Active', type: 'integer', description: 'A list of pointers to currently running jobs.', cell: (c) => (c.status?.active ?? []).length },
    { name: 'Last Schedule', type: 'string', description: 'Information when was the last time the job was successfully scheduled.', cell: (c) => (c.status?.lastScheduleTime ? age(c.status.lastScheduleTime) : '<none>') },
    ageColumn,
    ...templateColumns((c) => c.spec?.jobTemplate?.spec?.template, (c) => formatLabelSelector(c.spec?.jobTemplate?.spec?.selector)),
  ],
};
