/**
 * From a recommendation to the next size (upstream's normalizeDesiredReplicasWithBehaviors):
 * stabilization windows (scale up to the lowest, down to the highest recommendation of the
 * window), then the scaling policies' rate limits over their periods, then min/max replicas.
 * Without a behavior, upstream's older rules: a 5-minute downscale window and at most
 * max(2 × current, 4) when scaling up.
 */

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: ScalingPolicy[];
}

export interface Behavior {
  scaleUp?: ScalingRules;
  scaleDown?: ScalingRules;
}

export interface Recommendation {
  at: number;
  replicas: number;
}

export interface ScaleEvent {
  at: number;
  /** Replicas added (positive) or removed (negative). */
  change: number;
}

/** What the controller remembers per HPA between syncs. */
export interface ScalingHistory {
  recommendations: Recommendation[];
  events: ScaleEvent[];
}

export const DEFAULT_DOWNSCALE_STABILIZATION_SECONDS = 300;
const SCALE_UP_LIMIT_FACTOR = 2;
const SCALE_UP_LIMIT_MINIMUM = 4;

const DEFAULT_SCALE_UP: Required<ScalingRules> = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};
const DEFAULT_SCALE_DOWN: Required<ScalingRules> = { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

function changeInPeriod(events: readonly ScaleEvent[], now: number, periodSeconds: number, direction: 1 | -1): number {
  const since = now - periodSeconds * 1000;
  return events.filter((event) => event.at > since && Math.sign(event.change) === direction).reduce((sum, event) => sum + Math.abs(event.change), 0);
}

export function scaleUpLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const proposals = (rules.policies ?? []).map((policy) => {
    const periodStart = current - changeInPeriod(events, now, policy.periodSeconds, 1);
    return policy.type === 'Pods' ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100));
  });
  if (proposals.length === 0) return current;
  return rules.selectPolicy === 'Min' ? Math.min(...proposals) : Math.max(...proposals);
}

export function scaleDownLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const proposals = (rules.policies ?? []).map((policy) => {
    const periodStart = current + changeInPeriod(events, now, policy.periodSeconds, -1);
    return policy.type === 'Pods' ? periodStart - policy.value : Math.floor(periodStart * (1 - policy.value / 100));
  });
  if (proposals.length === 0) return current;
  return rules.selectPolicy === 'Min' ? Math.max(...proposals) : Math.min(...proposals);
}

export interface NormalizeInput {
  current: number;
  recommended: number;
  minReplicas: number;
  maxReplicas: number;
  behavior?: Behavior;
  history: ScalingHistory;
  now: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization, for HPAs without a behavior. */
  downscaleStabilizationSeconds?: number;
}

export interface NormalizeResult {
  replicas: number;
  /** Why the size is what it is, for the ScalingLimited condition. */
  limited?: { reason: 'TooFewReplicas' | 'TooManyReplicas' | 'ScaleUpLimit' | 'ScaleDownLimit'; message: string };
}

/** Records `recommended` in the history and returns the size to scale to. */
export function normalizeReplicas(input: NormalizeInput): NormalizeResult {
  const { current, recommended, now, history } = input;
  const upRules = input.behavior ? { ...DEFAULT_SCALE_UP, ...input.behavior.scaleUp } : undefined;
  const downRules = input.behavior ? { ...DEFAULT_SCALE_DOWN, ...input.behavior.scaleDown } : undefined;
  const upWindow = (upRules?.stabilizationWindowSeconds ?? 0) * 1000;
  const downWindow = (downRules?.stabilizationWindowSeconds ?? input.downscaleStabilizationSeconds ?? DEFAULT_DOWNSCALE_STABILIZATION_SECONDS) * 1000;
  let up = recommended;
  let down = recommended;
  for (const rec of history.recommendations) {
    if (rec.at > now - upWindow) up = Math.min(up, rec.replicas);
    if (rec.at > now - downWindow) down = Math.max(down, rec.replicas);
  }
  history.recommendations = [...history.recommendations.filter((rec) => rec.at > now - Math.max(upWindow, downWindow)), { at: now, replicas: recommended }];
  let stabilized = current;
  if (stabilized < up) stabilized = up;
  if (stabilized > down) stabilized = down;

  let replicas = stabilized;
  let limited: NormalizeResult['limited'];
  if (stabilized > current) {
    const limit = upRules ? scaleUpLimit(current, history.events, upRules, now) : Math.max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM);
    if (replicas > limit) {
      replicas = limit;
      limited = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
    }
  } else if (stabilized < current && downRules) {
    const limit = scaleDownLimit(current, history.events, downRules, now);
    if (replicas < limit) {
      replicas = limit;
      limited = { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' };
    }
  }
  if (replicas > input.maxReplicas) {
    replicas = input.maxReplicas;
    limited = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
  }
  if (replicas < input.minReplicas) {
    replicas = input.minReplicas;
    limited = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  }
  return { replicas, limited };
}

/** Remembers a scale change (for the policies' periods), forgetting what no period can see. */
export function recordScale(history: ScalingHistory, from: number, to: number, now: number, longestPeriodSeconds = 1800): void {
  history.events = [...history.events.filter((event) => event.at > now - longestPeriodSeconds * 1000), { at: now, change: to - from }];
}
