/**
 * autoscaling HorizontalPodAutoscaler: stored as autoscaling/v2 and also served as autoscaling/v1,
 * converted between the two as upstream converts them (v1 knows only the CPU utilization target).
 */
import { fieldErrors, type FieldError } from '../api/status.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn } from './common/printing.js';

const DEFAULT_CPU_UTILIZATION = 80;

/** Upstream's behavior defaults, applied where a behavior is given. */
function defaultBehavior(behavior: Obj): void {
  behavior.scaleUp ??= {};
  behavior.scaleUp.stabilizationWindowSeconds ??= 0;
  behavior.scaleUp.selectPolicy ??= 'Max';
  behavior.scaleUp.policies ??= [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ];
  behavior.scaleDown ??= {};
  behavior.scaleDown.stabilizationWindowSeconds ??= 300;
  behavior.scaleDown.selectPolicy ??= 'Max';
  behavior.scaleDown.policies ??= [{ type: 'Percent', value: 100, periodSeconds: 15 }];
}

function validateHpa(hpa: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const spec = hpa.spec;
  if (!spec || typeof spec !== 'object') return [fieldErrors.required('spec')];
  const ref = spec.scaleTargetRef;
  if (!ref?.kind) errs.push(fieldErrors.required('spec.scaleTargetRef.kind'));
  if (!ref?.name) errs.push(fieldErrors.required('spec.scaleTargetRef.name'));
  const min = spec.minReplicas ?? 1;
  if (typeof min !== 'number' || min < 1) errs.push(fieldErrors.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (typeof spec.maxReplicas !== 'number' || spec.maxReplicas < min) errs.push(fieldErrors.invalid('spec.maxReplicas', spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  (spec.metrics ?? []).forEach((metric: Obj, i: number) => {
    const at = `spec.metrics[${i}]`;
    if (!['Object', 'Pods', 'Resource', 'ContainerResource', 'External'].includes(metric?.type)) {
      errs.push(fieldErrors.notSupported(`${at}.type`, metric?.type, ['ContainerResource', 'External', 'Object', 'Pods', 'Resource']));
      return;
    }
    if (metric.type === 'Resource') {
      const target = metric.resource?.target;
      if (!metric.resource?.name) errs.push(fieldErrors.required(`${at}.resource.name`));
      if (!target?.type) errs.push(fieldErrors.required(`${at}.resource.target.type`));
      if (target?.type === 'Utilization' && !(target.averageUtilization > 0)) errs.push(fieldErrors.invalid(`${at}.resource.target.averageUtilization`, target.averageUtilization, 'must be greater than 0'));
    }
  });
  for (const direction of ['scaleUp', 'scaleDown'] as const) {
    const rules = spec.behavior?.[direction];
    if (!rules) continue;
    const window = rules.stabilizationWindowSeconds;
    if (typeof window === 'number' && (window < 0 || window > 3600)) errs.push(fieldErrors.invalid(`spec.behavior.${direction}.stabilizationWindowSeconds`, window, 'must be less than or equal to 3600'));
    (rules.policies ?? []).forEach((policy: Obj, i: number) => {
      const at = `spec.behavior.${direction}.policies[${i}]`;
      if (policy.type !== 'Pods' && policy.type !== 'Percent') errs.push(fieldErrors.notSupported(`${at}.type`, policy.type, ['Percent', 'Pods']));
      if (!(policy.value > 0)) errs.push(fieldErrors.invalid(`${at}.value`, policy.value, 'must be greater than zero'));
      if (!(policy.periodSeconds > 0 && policy.periodSeconds <= 1800)) errs.push(fieldErrors.invalid(`${at}.periodSeconds`, policy.periodSeconds, 'must be greater than zero and less than or equal to 1800'));
    });
  }
  return errs;
}

/** One metric as `kubectl get hpa` prints it: "cpu: 45%/80%". */
function formatMetric(spec: Obj, status: Obj | undefined): string {
  const current = status;
  switch (spec.type) {
    case 'Resource':
    case 'ContainerResource': {
      const source = spec.resource ?? spec.containerResource;
      const now = current?.resource ?? current?.containerResource;
      const name = source?.name ?? '';
      if (source?.target?.type === 'Utilization') {
        const value = now?.current?.averageUtilization;
        return `${name}: ${value === undefined ? '<unknown>' : `${value}%`}/${source.target.averageUtilization}%`;
      }
      const value = now?.current?.averageValue;
      return `${name}: ${value ?? '<unknown>'}/${source?.target?.averageValue ?? source?.target?.value}`;
    }
    case 'Pods':
      return `${current?.pods?.current?.averageValue ?? '<unknown>'}/${spec.pods?.target?.averageValue}`;
    case 'Object': {
      const target = spec.object?.target;
      const value = target?.type === 'AverageValue' ? current?.object?.current?.averageValue : current?.object?.current?.value;
      return `${value ?? '<unknown>'}/${target?.averageValue ?? target?.value}${target?.type === 'AverageValue' ? ' (avg)' : ''}`;
    }
    case 'External': {
      const target = spec.external?.target;
      const value = target?.type === 'AverageValue' ? current?.external?.current?.averageValue : current?.external?.current?.value;
      return `${value ?? '<unknown>'}/${target?.averageValue ?? target?.value}${target?.type === 'AverageValue' ? ' (avg)' : ''}`;
    }
    default:
      return '<unknown type>';
  }
}

export function formatHpaTargets(hpa: Obj): string {
  const metrics: Obj[] = hpa.spec?.metrics ?? [];
  if (metrics.length === 0) return '<none>';
  const current: Obj[] = hpa.status?.currentMetrics ?? [];
  const shown = metrics.slice(0, 2).map((metric, i) => formatMetric(metric, current[i]?.type === metric.type ? current[i] : undefined));
  const more = metrics.length > 2 ? ` + ${metrics.length - 2} more...` : '';
  return `${shown.join(', ')}${more}`;
}

const COLUMNS: KindStrategy['columns'] = [
  { name: 'Reference', type: 'string', cell: (o) => `${o.spec?.scaleTargetRef?.kind}/${o.spec?.scaleTargetRef?.name}` },
  { name: 'Targets', type: 'string', cell: formatHpaTargets },
  { name: 'MinPods', type: 'string', cell: (o) => String(o.spec?.minReplicas ?? '<unset>') },
  { name: 'MaxPods', type: 'integer', cell: (o) => o.spec?.maxReplicas },
  { name: 'Replicas', type: 'integer', cell: (o) => o.status?.currentReplicas ?? 0 },
  ageColumn,
];

const COMMON = {
  group: 'autoscaling',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  shortNames: ['hpa'],
  categories: ['all'],
  namespaced: true,
  statusSubresource: true,
  generation: true,
  columns: COLUMNS,
} as const;

export const horizontalPodAutoscalersV2: KindStrategy = {
  ...COMMON,
  shortNames: [...COMMON.shortNames],
  categories: [...COMMON.categories],
  version: 'v2',
  storageVersion: 'v2',
  defaults(hpa) {
    if (!hpa.spec || typeof hpa.spec !== 'object') return;
    hpa.spec.minReplicas ??= 1;
    if (!Array.isArray(hpa.spec.metrics) || hpa.spec.metrics.length === 0) {
      hpa.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
    }
    if (hpa.spec.behavior && typeof hpa.spec.behavior === 'object') defaultBehavior(hpa.spec.behavior);
  },
  validate: validateHpa,
};

/** autoscaling/v1 ↔ v2, as upstream's conversion (v1 carries the CPU utilization target only). */
export const hpaV1Conversion = {
  fromStorage(hpa: Obj): Obj {
    const spec = hpa.spec ?? {};
    const cpu = (spec.metrics ?? []).find((m: Obj) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization');
    const currentCpu = (hpa.status?.currentMetrics ?? []).find((m: Obj) => m.type === 'Resource' && m.resource?.name === 'cpu');
    const status = hpa.status ?? {};
    const v1: Obj = {
      ...hpa,
      spec: { scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, ...(cpu ? { targetCPUUtilizationPercentage: cpu.resource.target.averageUtilization } : {}) },
      status: {
        ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
        ...(status.lastScaleTime ? { lastScaleTime: status.lastScaleTime } : {}),
        currentReplicas: status.currentReplicas ?? 0,
        desiredReplicas: status.desiredReplicas ?? 0,
        ...(currentCpu?.resource?.current?.averageUtilization !== undefined ? { currentCPUUtilizationPercentage: currentCpu.resource.current.averageUtilization } : {}),
      },
    };
    return v1;
  },
  toStorage(hpa: Obj): Obj {
    const spec = hpa.spec ?? {};
    const { targetCPUUtilizationPercentage, ...rest } = spec;
    const metrics = targetCPUUtilizationPercentage !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: targetCPUUtilizationPercentage } } }] : undefined;
    const status = hpa.status ?? {};
    const { currentCPUUtilizationPercentage, ...statusRest } = status;
    const currentMetrics = currentCPUUtilizationPercentage !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: currentCPUUtilizationPercentage } } }] : undefined;
    return { ...hpa, spec: { ...rest, ...(metrics ? { metrics } : {}) }, ...(hpa.status ? { status: { ...statusRest, ...(currentMetrics ? { currentMetrics } : {}) } } : {}) };
  },
};

export const horizontalPodAutoscalersV1: KindStrategy = {
  ...COMMON,
  shortNames: [...COMMON.shortNames],
  categories: [...COMMON.categories],
  version: 'v1',
  storageVersion: 'v2',
  convert: hpaV1Conversion,
  defaults(hpa) {
    if (!hpa.spec || typeof hpa.spec !== 'object') return;
    hpa.spec.minReplicas ??= 1;
  },
  validate(hpa) {
    const errs = validateHpa({ ...hpa, spec: { ...hpa.spec, metrics: undefined } });
    const target = hpa.spec?.targetCPUUtilizationPercentage;
    if (target !== undefined && !(target >= 1)) errs.push(fieldErrors.invalid('spec.targetCPUUtilizationPercentage', target, 'must be greater than or equal to 1'));
    return errs;
  },
  columns: [
    COLUMNS[0],
    { name: 'Targets', type: 'string', cell: (o) => (o.spec?.targetCPUUtilizationPercentage === undefined ? '<none>' : `cpu: ${o.status?.currentCPUUtilizationPercentage === undefined ? '<unknown>' : `${o.status.currentCPUUtilizationPercentage}%`}/${o.spec.targetCPUUtilizationPercentage}%`) },
    ...COLUMNS.slice(2),
  ],
};
