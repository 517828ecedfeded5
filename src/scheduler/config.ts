/**
 * KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) as upstream resolves it: profiles,
 * each with its schedulerName, plugins per extension point (multiPoint expands to every point a
 * plugin implements; `disabled: [{name: "*"}]` drops the defaults), score weights, plugin args and
 * percentageOfNodesToScore. Without a file, upstream's defaults.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
export const CONFIG_API_VERSION = 'kubescheduler.config.k8s.io/v1';

export const EXTENSION_POINTS = ['preEnqueue', 'queueSort', 'preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind', 'postBind'] as const;
export type ExtensionPoint = (typeof EXTENSION_POINTS)[number];

export interface PluginRef {
  name: string;
  weight?: number;
}

interface PluginSet {
  enabled?: PluginRef[];
  disabled?: Array<{ name: string }>;
}

export interface ProfileConfig {
  schedulerName?: string;
  percentageOfNodesToScore?: number;
  plugins?: Partial<Record<ExtensionPoint | 'multiPoint', PluginSet>>;
  pluginConfig?: Array<{ name: string; args?: Record<string, unknown> }>;
}

export interface SchedulerConfiguration {
  apiVersion?: string;
  kind?: string;
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  profiles?: ProfileConfig[];
}

/** Upstream's default plugins (multiPoint) and score weights, for the plugins Nautilus has. */
export const DEFAULT_PLUGINS: readonly PluginRef[] = [
  { name: 'SchedulingGates' },
  { name: 'PrioritySort' },
  { name: 'NodeUnschedulable' },
  { name: 'NodeName' },
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'NodePorts' },
  { name: 'NodeResourcesFit', weight: 1 },
  { name: 'VolumeRestrictions' },
  { name: 'VolumeBinding' },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  { name: 'DefaultPreemption' },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
  { name: 'DefaultBinder' },
];

/** One profile, resolved: which plugins run at each point (in order), their weights and args. */
export interface ResolvedProfile {
  schedulerName: string;
  percentageOfNodesToScore?: number;
  /** Plugin names enabled per point; a plugin only runs at points it implements. */
  enabled: Map<ExtensionPoint, string[]>;
  weights: Map<string, number>;
  args: Map<string, Record<string, unknown>>;
}

export interface ResolvedConfiguration {
  percentageOfNodesToScore: number;
  podInitialBackoffSeconds: number;
  podMaxBackoffSeconds: number;
  profiles: ResolvedProfile[];
}

export class ConfigurationError extends Error {}

export function loadSchedulerConfiguration(path: string): ResolvedConfiguration {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigurationError(`cannot read --scheduler-config ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (error) {
    throw new ConfigurationError(`--scheduler-config ${path} is not YAML or JSON: ${(error as Error).message}`);
  }
  return resolveConfiguration((parsed ?? {}) as SchedulerConfiguration);
}

export function resolveConfiguration(config: SchedulerConfiguration = {}): ResolvedConfiguration {
  if (config.apiVersion !== undefined && config.apiVersion !== CONFIG_API_VERSION) {
    throw new ConfigurationError(`no kind "KubeSchedulerConfiguration" is registered for version "${config.apiVersion}"; use ${CONFIG_API_VERSION}`);
  }
  if (config.kind !== undefined && config.kind !== 'KubeSchedulerConfiguration') throw new ConfigurationError(`kind must be KubeSchedulerConfiguration, got ${JSON.stringify(config.kind)}`);
  const percentage = config.percentageOfNodesToScore ?? 0;
  checkPercentage(percentage, 'percentageOfNodesToScore');
  const initial = config.podInitialBackoffSeconds ?? 1;
  const max = config.podMaxBackoffSeconds ?? 10;
  if (!(initial > 0)) throw new ConfigurationError('podInitialBackoffSeconds: Invalid value: must be greater than 0');
  if (!(max >= initial)) throw new ConfigurationError('podMaxBackoffSeconds: Invalid value: must be greater than or equal to PodInitialBackoffSeconds');
  const profiles = (config.profiles?.length ? config.profiles : [{}]).map((profile, i) => resolveProfile(profile, i));
  const names = new Set<string>();
  for (const profile of profiles) {
    if (names.has(profile.schedulerName)) throw new ConfigurationError(`profiles[].schedulerName: Duplicate value: "${profile.schedulerName}"`);
    names.add(profile.schedulerName);
  }
  return { percentageOfNodesToScore: percentage, podInitialBackoffSeconds: initial, podMaxBackoffSeconds: max, profiles };
}

function checkPercentage(value: unknown, field: string): void {
  if (typeof value !== 'number' || value < 0 || value > 100) throw new ConfigurationError(`${field}: Invalid value: ${JSON.stringify(value)}: not in valid range [0-100]`);
}

function resolveProfile(profile: ProfileConfig, index: number): ResolvedProfile {
  const schedulerName = profile.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  if (profile.percentageOfNodesToScore !== undefined) checkPercentage(profile.percentageOfNodesToScore, `profiles[${index}].percentageOfNodesToScore`);
  const plugins = profile.plugins ?? {};
  const multiDisabled = new Set((plugins.multiPoint?.disabled ?? []).map((d) => d.name));
  const weights = new Map<string, number>();
  const multiPoint: PluginRef[] = [];
  // Defaults first (unless disabled), then the profile's own multiPoint plugins (which override a default's weight).
  const custom = plugins.multiPoint?.enabled ?? [];
  for (const ref of DEFAULT_PLUGINS) {
    if (multiDisabled.has('*') || multiDisabled.has(ref.name) || custom.some((c) => c.name === ref.name)) continue;
    multiPoint.push(ref);
  }
  multiPoint.push(...custom);
  for (const ref of multiPoint) if (ref.weight !== undefined) weights.set(ref.name, ref.weight);
  const enabled = new Map<ExtensionPoint, string[]>();
  for (const point of EXTENSION_POINTS) {
    const set = plugins[point] ?? {};
    const disabled = new Set((set.disabled ?? []).map((d) => d.name));
    const own = set.enabled ?? [];
    const names = multiPoint.filter((ref) => !disabled.has('*') && !disabled.has(ref.name) && !own.some((o) => o.name === ref.name)).map((ref) => ref.name);
    for (const ref of own) {
      names.push(ref.name);
      if (point === 'score' && ref.weight !== undefined) weights.set(ref.name, ref.weight);
    }
    enabled.set(point, names);
  }
  for (const [name, weight] of weights) {
    if (!Number.isInteger(weight) || weight < 0 || weight > 100) throw new ConfigurationError(`profiles[${index}].plugins.score.enabled[${name}].weight: Invalid value: ${weight}: must be in the range [0, 100]`);
  }
  const args = new Map<string, Record<string, unknown>>();
  for (const entry of profile.pluginConfig ?? []) {
    if (args.has(entry.name)) throw new ConfigurationError(`profiles[${index}].pluginConfig: Duplicate value: "${entry.name}"`);
    args.set(entry.name, entry.args ?? {});
  }
  return { schedulerName, percentageOfNodesToScore: profile.percentageOfNodesToScore, enabled, weights, args };
}
