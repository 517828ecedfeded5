/** apps/v1 DaemonSet. */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject, jsonEqual } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn, formatLabelSelector, labelsToString, templateColumns } from './common/printing.js';
import { defaultPodTemplate } from './common/pod-spec.js';
import { isZeroIntOrPercent, validateIntOrPercent, validateNonNegativeInteger, validateOneOf } from './common/validation.js';
import { selectorImmutable, validateSelectorAndTemplate } from './common/workload.js';
import { mapAt } from './common/fields.js';

const UPDATE_STRATEGIES = ['RollingUpdate', 'OnDelete'];

function validateUpdateStrategy(strategy: unknown): FieldError[] {
  if (!isPlainObject(strategy)) return [];
  const errs = validateOneOf(strategy.type, 'spec.updateStrategy.type', UPDATE_STRATEGIES, true);
  const rolling = strategy.rollingUpdate;
  if (strategy.type === 'RollingUpdate' && isPlainObject(rolling)) {
    const field = 'spec.updateStrategy.rollingUpdate';
    errs.push(...validateIntOrPercent(rolling.maxUnavailable, `${field}.maxUnavailable`), ...validateIntOrPercent(rolling.maxSurge, `${field}.maxSurge`));
    if (isZeroIntOrPercent(rolling.maxUnavailable) && isZeroIntOrPercent(rolling.maxSurge ?? 0)) {
      errs.push(fieldErrors.invalid(`${field}.maxUnavailable`, rolling.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
  return errs;
}

/**
 * apps/v1 keeps the template generation (extensions/v1beta1's spec.templateGeneration) in this
 * annotation: 1 on create, one more whenever the template changes. Daemon pods carry it.
 */
const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

function setTemplateGeneration(daemonSet: Obj, generation: number): void {
  daemonSet.metadata.annotations = { ...(daemonSet.metadata.annotations ?? {}), [TEMPLATE_GENERATION_ANNOTATION]: String(generation) };
}

/** The initial status: upstream's DaemonSetStatus serialises its counters even when zero. */
const EMPTY_STATUS = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };

export const daemonSets: KindStrategy = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  shortNames: ['ds'],
  categories: ['all'],
  namespaced: true,
  statusSubresource: true,
  generation: true,

  defaults(daemonSet) {
    const spec = mapAt(daemonSet, 'spec');
    if (!spec) return;
    const strategy = mapAt(spec, 'updateStrategy') ?? {};
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const rolling = mapAt(strategy, 'rollingUpdate') ?? {};
      rolling.maxUnavailable ??= 1;
      rolling.maxSurge ??= 0;
    }
    spec.revisionHistoryLimit ??= 10;
    defaultPodTemplate(spec.template);
  },
  prepareForCreate(daemonSet) {
    daemonSet.status = { ...EMPTY_STATUS };
    setTemplateGeneration(daemonSet, 1);
  },
  prepareForUpdate(daemonSet, old) {
    const previous = Number(old.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? 0) || 0;
    setTemplateGeneration(daemonSet, jsonEqual(daemonSet.spec?.template, old.spec?.template) ? previous : previous + 1);
  },
  validate(daemonSet, old) {
    const spec = daemonSet.spec;
    if (!isPlainObject(spec)) return [fieldErrors.required('spec')];
    const errs = [...validateSelectorAndTemplate(spec, 'daemonset'), ...validateUpdateStrategy(spec.updateStrategy)];
    errs.push(...validateNonNegativeInteger(spec.minReadySeconds, 'spec.minReadySeconds'), ...validateNonNegativeInteger(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
    if (old) errs.push(...selectorImmutable(spec, old.spec));
    return errs;
  },

  columns: [
    { name: 'Desired', type: 'integer', description: 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).', cell: (d) => d.status?.desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', cell: (d) => d.status?.currentNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', description: 'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.', cell: (d) => d.status?.numberReady ?? 0 },
    { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod', cell: (d) => d.status?.updatedNumberScheduled ?? 0 },
    { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)', cell: (d) => d.status?.numberAvailable ?? 0 },
    { name: 'Node Selector', type: 'string', description: 'NodeSelector is a selector which must be true for the pod to fit on a node.', cell: (d) => labelsToString(d.spec?.template?.spec?.nodeSelector) },
    ageColumn,
    ...templateColumns((d) => d.spec?.template, (d) => formatLabelSelector(d.spec?.selector)),
  ],
};
