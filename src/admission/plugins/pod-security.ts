/**
 * PodSecurity (upstream's built-in pod-security-admission): the namespace's
 * `pod-security.kubernetes.io/enforce|audit|warn` labels choose a Pod Security Standard per mode.
 * Pods violating the enforce level are refused; audit violations become audit annotations; warn
 * violations (and violations of pod templates in workload objects, which are never refused) are
 * sent to the client as warnings. Namespace writes with invalid labels are refused, and tightening
 * the enforce level warns about the existing pods that would now be refused.
 */
import { errors, fieldErrors } from '../../api/status.js';
import { jsonEqual } from '../../api/object.js';
import type { Registry } from '../../registry/registry.js';
import type { Obj } from '../../registry/strategy.js';
import type { Fields } from '../../registry/common/fields.js';
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from '../admission.js';
import {
  evaluatePod, forbiddenDetail, forbiddenReasons, LABEL_PREFIX, levelVersionString, policyFromLabels, sameLevelVersion, type LevelVersion, type Policy,
} from '../pod-security/policy.js';

/** Pod subresources that cannot change what the pod runs as. */
const IGNORED_POD_SUBRESOURCES = new Set(['exec', 'attach', 'binding', 'eviction', 'log', 'portforward', 'proxy', 'status']);
/** How many existing pods a namespace update checks at most (upstream's default). */
const MAX_PODS_TO_CHECK = 3000;

/** Where the pod template sits in each workload kind. */
const TEMPLATE_PATHS: Record<string, (object: Obj) => Obj | undefined> = {
  '/podtemplates': (o) => o.template,
  '/replicationcontrollers': (o) => o.spec?.template,
  'apps/replicasets': (o) => o.spec?.template,
  'apps/deployments': (o) => o.spec?.template,
  'apps/statefulsets': (o) => o.spec?.template,
  'apps/daemonsets': (o) => o.spec?.template,
  'batch/jobs': (o) => o.spec?.template,
  'batch/cronjobs': (o) => o.spec?.jobTemplate?.spec?.template,
};

const LEVEL_ORDER = { privileged: 0, baseline: 1, restricted: 2 };

function namespacePolicy(registry: Registry, namespace: string | undefined): ReturnType<typeof policyFromLabels> {
  const stored = namespace ? registry.of('', 'namespaces').tryGet(undefined, namespace)?.object : undefined;
  return policyFromLabels(stored?.metadata.labels);
}

function labelErrorMessage(errs: ReturnType<typeof policyFromLabels>['errors']): string {
  const each = errs.map((e) => `metadata.labels[${e.label}]: Invalid value: ${JSON.stringify(e.value)}: ${e.message}`);
  return each.length > 1 ? `[${each.join(', ')}]` : (each[0] ?? '');
}

/** Only image and seccomp-annotation changes (or new containers) can alter an existing pod's standing. */
function significantPodUpdate(pod: Obj, old: Obj): boolean {
  const annotations: Record<string, string> = pod.metadata.annotations ?? {};
  const oldAnnotations: Record<string, string> = old.metadata.annotations ?? {};
  const seccompPod = 'seccomp.security.alpha.kubernetes.io/pod';
  if (annotations[seccompPod] !== oldAnnotations[seccompPod]) return true;
  const containerChanged = (c: Obj | undefined, o: Obj | undefined) => {
    if (!c || !o) return true;
    const key = `container.seccomp.security.alpha.kubernetes.io/${c.name}`;
    return c.image !== o.image || annotations[key] !== oldAnnotations[key];
  };
  for (const field of ['containers', 'initContainers']) {
    const now: Obj[] = pod.spec?.[field] ?? [];
    const before: Obj[] = old.spec?.[field] ?? [];
    if (now.length !== before.length) return true;
    if (now.some((c, i) => containerChanged(c, before[i]))) return true;
  }
  const oldEphemeral: Obj[] = old.spec?.ephemeralContainers ?? [];
  return ((pod.spec?.ephemeralContainers ?? []) as Obj[]).some((c) => containerChanged(c, oldEphemeral.find((o) => o.name === c.name)));
}

function evaluate(attributes: AdmissionAttributes, policy: Policy, labelErrors: string, meta: Fields, spec: Fields, enforce: boolean): void {
  const cache = new Map<string, ReturnType<typeof evaluatePod>>();
  const run = (lv: LevelVersion) => {
    const key = levelVersionString(lv);
    let found = cache.get(key);
    if (!found) cache.set(key, (found = evaluatePod(lv, meta, spec)));
    return found;
  };
  const annotations = attributes.auditAnnotations;
  if (labelErrors && annotations) annotations[`${LABEL_PREFIX}error`] = `Failed to parse policy: ${labelErrors}`;
  let refused: string | undefined;
  if (enforce) {
    if (annotations) annotations[`${LABEL_PREFIX}enforce-policy`] = levelVersionString(policy.enforce);
    const failures = run(policy.enforce);
    if (failures.length > 0) refused = `violates PodSecurity ${JSON.stringify(levelVersionString(policy.enforce))}: ${forbiddenDetail(failures)}`;
  }
  const auditFailures = run(policy.audit);
  if (auditFailures.length > 0 && annotations) {
    annotations[`${LABEL_PREFIX}audit-violations`] = `would violate PodSecurity ${JSON.stringify(levelVersionString(policy.audit))}: ${forbiddenDetail(auditFailures)}`;
  }
  if (refused) throw admissionForbidden(attributes, refused);
  const warnFailures = run(policy.warn);
  if (warnFailures.length > 0) attributes.warnings?.push(`would violate PodSecurity ${JSON.stringify(levelVersionString(policy.warn))}: ${forbiddenDetail(warnFailures)}`);
}

function allPrivileged(policy: Policy, modes: ReadonlyArray<keyof Policy>): boolean {
  return modes.every((mode) => policy[mode].level === 'privileged');
}

/** Warnings for existing pods the namespace's new enforce level would refuse, grouped by identical violations. */
function existingPodWarnings(registry: Registry, namespace: string, enforce: LevelVersion): string[] {
  const pods = registry.of('', 'pods').list(namespace, {}).items.map((item) => item.object as Obj);
  const checked = pods.slice(0, MAX_PODS_TO_CHECK);
  const byViolation = new Map<string, { first: string; count: number }>();
  for (const pod of checked) {
    const failures = evaluatePod(enforce, pod.metadata, pod.spec ?? {});
    if (failures.length === 0) continue;
    const reason = forbiddenReasons(failures);
    const entry = byViolation.get(reason);
    const name = pod.metadata.name ?? '';
    if (!entry) byViolation.set(reason, { first: name, count: 1 });
    else {
      entry.count++;
      if (name < entry.first) entry.first = name;
    }
  }
  const warnings: string[] = [];
  if (checked.length < pods.length) warnings.push(`new PodSecurity enforce level only checked against the first ${checked.length} of ${pods.length} existing pods`);
  if (byViolation.size > 0) warnings.push(`existing pods in namespace ${JSON.stringify(namespace)} violate the new PodSecurity enforce level ${JSON.stringify(levelVersionString(enforce))}`);
  const perPod = [...byViolation].map(([reason, { first, count }]) => {
    const who = count === 1 ? first : count === 2 ? `${first} (and 1 other pod)` : `${first} (and ${count - 1} other pods)`;
    return `${who}: ${reason}`;
  });
  return [...warnings, ...perPod.sort()];
}

function validateNamespace(attributes: AdmissionAttributes, registry: Registry): void {
  if (attributes.subresource || !attributes.object) return;
  const { policy, errors: labelErrors } = policyFromLabels(attributes.object.metadata.labels);
  const invalid = () => {
    const name = attributes.object!.metadata.name ?? '';
    throw errors.invalid('Namespace', '', name, labelErrors.map((e) => fieldErrors.invalid(`metadata.labels[${e.label}]`, e.value, e.message)));
  };
  if (attributes.operation === 'CREATE') {
    if (labelErrors.length > 0) invalid();
    return;
  }
  if (attributes.operation !== 'UPDATE' || !attributes.oldObject) return;
  const old = policyFromLabels(attributes.oldObject.metadata.labels);
  if (labelErrors.length > 0 && labelErrorMessage(labelErrors) !== labelErrorMessage(old.errors)) invalid();
  const enforce = policy.enforce;
  if (sameLevelVersion(enforce, old.policy.enforce) || enforce.level === 'privileged') return;
  if (jsonEqual(enforce.version, old.policy.enforce.version) && LEVEL_ORDER[enforce.level] <= LEVEL_ORDER[old.policy.enforce.level]) return;
  for (const warning of existingPodWarnings(registry, attributes.object.metadata.name ?? '', enforce)) attributes.warnings?.push(warning);
}

export function podSecurity(registry: () => Registry): AdmissionPlugin {
  return {
    name: 'PodSecurity',
    validate(attributes) {
      if (attributes.operation !== 'CREATE' && attributes.operation !== 'UPDATE') return;
      const resource = `${attributes.resource.group}/${attributes.resource.resource}`;
      if (resource === '/namespaces') return validateNamespace(attributes, registry());
      const object = attributes.object;
      if (!object) return;
      if (resource === '/pods') {
        if (attributes.subresource && IGNORED_POD_SUBRESOURCES.has(attributes.subresource)) return;
        const { policy, errors: labelErrors } = namespacePolicy(registry(), attributes.namespace);
        if (labelErrors.length === 0 && allPrivileged(policy, ['enforce', 'audit', 'warn'])) return;
        if (attributes.operation === 'UPDATE' && attributes.oldObject && !significantPodUpdate(object, attributes.oldObject)) return;
        return evaluate(attributes, policy, labelErrorMessage(labelErrors), object.metadata, object.spec ?? {}, true);
      }
      const templateOf = TEMPLATE_PATHS[resource];
      if (!templateOf || attributes.subresource) return;
      const { policy, errors: labelErrors } = namespacePolicy(registry(), attributes.namespace);
      if (labelErrors.length === 0 && allPrivileged(policy, ['audit', 'warn'])) return;
      const template = templateOf(object);
      if (!template) return;
      evaluate(attributes, policy, labelErrorMessage(labelErrors), template.metadata ?? {}, template.spec ?? {}, false);
    },
  };
}
