/**
 * spec.podFailurePolicy (upstream pod_failure_policy.go): the first rule matching a failed pod —
 * by a container's non-zero exit code, or by a pod condition — decides: FailJob fails the Job
 * at once, Ignore does not count the failure against backoffLimit, Count (and FailIndex) count it.
 */
import type { Obj } from '../../client/api-client.js';

export interface PolicyMatch {
  /** The Job's failure message when a FailJob rule matched. */
  failJobMessage?: string;
  /** Whether the failure counts against backoffLimit. */
  countFailed: boolean;
  action?: string;
}

function exitCodeMatches(exitCode: number, requirement: Obj['spec']): boolean {
  const values: number[] = requirement.values ?? [];
  if (requirement.operator === 'In') return values.includes(exitCode);
  if (requirement.operator === 'NotIn') return !values.includes(exitCode);
  return false;
}

function matchingContainer(statuses: Obj['spec'][] | undefined, requirement: Obj['spec']): Obj['spec'] | undefined {
  for (const status of statuses ?? []) {
    const terminated = status.state?.terminated;
    if (!terminated) continue;
    if (requirement.containerName && requirement.containerName !== status.name) continue;
    if (terminated.exitCode !== 0 && exitCodeMatches(terminated.exitCode, requirement)) return status;
  }
  return undefined;
}

export function matchPodFailurePolicy(policy: Obj['spec'] | undefined, pod: Obj): PolicyMatch {
  if (!policy) return { countFailed: true };
  const rules: Obj['spec'][] = policy.rules ?? [];
  for (const [index, rule] of rules.entries()) {
    let subject: string | undefined;
    if (rule.onExitCodes) {
      const container = matchingContainer(pod.status?.containerStatuses, rule.onExitCodes) ?? matchingContainer(pod.status?.initContainerStatuses, rule.onExitCodes);
      if (container) subject = `Container ${container.name} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${container.state.terminated.exitCode}`;
    } else if (rule.onPodConditions) {
      const patterns: Obj['spec'][] = rule.onPodConditions;
      const condition = ((pod.status?.conditions ?? []) as Obj['spec'][]).find((c) => patterns.some((p) => p.type === c.type && (p.status ?? 'True') === c.status));
      if (condition) subject = `Pod ${pod.metadata.namespace}/${pod.metadata.name} has condition ${condition.type}`;
    }
    if (subject === undefined) continue;
    switch (rule.action) {
      case 'Ignore':
        return { countFailed: false, action: 'Ignore' };
      case 'FailJob':
        return { failJobMessage: `${subject} matching ${rule.action} rule at index ${index}`, countFailed: true, action: 'FailJob' };
      case 'FailIndex':
      case 'Count':
        return { countFailed: true, action: rule.action };
    }
  }
  return { countFailed: true };
}
