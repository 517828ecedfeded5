/** Job conditions, their upstream reasons and messages, and how they are set. */
import type { Obj } from '../../client/api-client.js';
import { rfc3339 } from '../clock.js';

export interface JobCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastProbeTime: string;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export const REASON = {
  backoffLimitExceeded: 'BackoffLimitExceeded',
  deadlineExceeded: 'DeadlineExceeded',
  podFailurePolicy: 'PodFailurePolicy',
  completionsReached: 'CompletionsReached',
} as const;

export const MESSAGE = {
  backoffLimitExceeded: 'Job has reached the specified backoff limit',
  deadlineExceeded: 'Job was active longer than specified deadline',
  completionsReached: 'Reached expected number of succeeded pods',
} as const;

export function newCondition(type: string, status: JobCondition['status'], reason: string | undefined, message: string | undefined, now: number): JobCondition {
  const at = rfc3339(now);
  return { type, status, lastProbeTime: at, lastTransitionTime: at, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

export function findCondition(job: Obj, type: string): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c: JobCondition) => c.type === type);
}

export function conditionIsTrue(job: Obj, type: string): boolean {
  return findCondition(job, type)?.status === 'True';
}

/** Complete or Failed: the Job will do nothing more. */
export function isJobFinished(job: Obj): boolean {
  return conditionIsTrue(job, 'Complete') || conditionIsTrue(job, 'Failed');
}

/** The finishing condition (Complete or Failed) that is true, if any. */
export function finishedCondition(job: Obj): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c: JobCondition) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/**
 * Sets a condition's status (upstream ensureJobConditionStatus): an existing one is replaced
 * when its status, reason or message differ; a missing one is added unless it would be False.
 * Returns whether anything changed.
 */
export function ensureCondition(conditions: JobCondition[], type: string, status: JobCondition['status'], reason: string, message: string, now: number): boolean {
  const index = conditions.findIndex((c) => c.type === type);
  if (index >= 0) {
    const existing = conditions[index];
    if (existing.status === status && existing.reason === reason && existing.message === message) return false;
    conditions[index] = newCondition(type, status, reason, message, now);
    return true;
  }
  if (status === 'False') return false;
  conditions.push(newCondition(type, status, reason, message, now));
  return true;
}
