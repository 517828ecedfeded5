/**
 * A namespace's Pod Security policy from its labels (pod-security.kubernetes.io/<mode> and
 * <mode>-version), and the evaluation of a pod(-template) against one level:version, as
 * upstream's api.PolicyToEvaluate and policy.Evaluator do.
 */
import type { Fields as Obj } from '../../registry/common/fields.js';
import { CHECKS, type CheckResult, type Level, type Version } from './checks.js';

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';
export const MODES = ['enforce', 'audit', 'warn'] as const;
export type Mode = (typeof MODES)[number];

/** The Kubernetes minor "latest" stands for (the version this server reports). */
export const LATEST_MINOR = 32;

const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

export interface LevelVersion {
  level: Level;
  version: Version;
}

export type Policy = Record<Mode, LevelVersion>;

export interface LabelError {
  label: string;
  value: string;
  message: string;
}

export function levelVersionString(lv: LevelVersion): string {
  return `${lv.level}:${lv.version.latest ? 'latest' : `v1.${lv.version.minor}`}`;
}

function parseVersion(value: string): Version | undefined {
  if (value === 'latest') return { latest: true };
  const match = /^v1\.(0|[1-9][0-9]*)$/.exec(value);
  return match ? { latest: false, minor: Number(match[1]) } : undefined;
}

/**
 * The policy the labels ask for. Missing labels mean privileged:latest (the default
 * configuration); an invalid level counts as restricted and an invalid version as latest, as
 * upstream fails closed — the errors are returned beside.
 */
export function policyFromLabels(labels: Record<string, string> | undefined): { policy: Policy; errors: LabelError[] } {
  const errors: LabelError[] = [];
  const policy = {} as Policy;
  for (const mode of MODES) {
    const levelLabel = LABEL_PREFIX + mode;
    const versionLabel = `${levelLabel}-version`;
    const rawLevel = labels?.[levelLabel];
    const rawVersion = labels?.[versionLabel];
    let level: Level = 'privileged';
    if (rawLevel !== undefined) {
      if ((LEVELS as readonly string[]).includes(rawLevel)) level = rawLevel as Level;
      else {
        level = 'restricted';
        errors.push({ label: levelLabel, value: rawLevel, message: `must be one of ${LEVELS.join(', ')}` });
      }
    }
    let version: Version = { latest: true };
    if (rawVersion !== undefined) {
      const parsed = parseVersion(rawVersion);
      if (parsed) version = parsed;
      else errors.push({ label: versionLabel, value: rawVersion, message: 'must be "latest" or "v1.x"' });
    }
    policy[mode] = { level, version };
  }
  // Warn defaults to an explicitly set, stricter enforce level (and its version, unless warn has one).
  const enforceSet = labels?.[`${LABEL_PREFIX}enforce`] !== undefined && !errors.some((e) => e.label === `${LABEL_PREFIX}enforce`);
  if (enforceSet && labels?.[`${LABEL_PREFIX}warn`] === undefined && LEVELS.indexOf(policy.enforce.level) > LEVELS.indexOf(policy.warn.level)) {
    policy.warn = { level: policy.enforce.level, version: labels?.[`${LABEL_PREFIX}warn-version`] === undefined ? policy.enforce.version : policy.warn.version };
  }
  return { policy, errors };
}

export function sameLevelVersion(a: LevelVersion, b: LevelVersion): boolean {
  return levelVersionString(a) === levelVersionString(b);
}

/** The failed checks of a pod's metadata and spec at one level:version, in check order. */
export function evaluatePod(lv: LevelVersion, meta: Obj, spec: Obj): CheckResult[] {
  if (lv.level === 'privileged') return [];
  const minor = lv.version.latest ? LATEST_MINOR : Math.min(lv.version.minor, LATEST_MINOR);
  const applicable = CHECKS.filter((check) => lv.level === 'restricted' || check.level === 'baseline');
  const overridden = new Set(lv.level === 'restricted' ? applicable.flatMap((check) => (check.versions.some((v) => v.minMinor <= minor) ? (check.overrides ?? []) : [])) : []);
  const failures: CheckResult[] = [];
  for (const check of applicable) {
    if (overridden.has(check.id)) continue;
    // The newest variant whose minimum version the policy version reaches.
    const variant = [...check.versions].reverse().find((v) => v.minMinor <= minor);
    const result = variant?.check(meta ?? {}, spec ?? {}, minor);
    if (result) failures.push(result);
  }
  return failures;
}

/** "reason (detail), reason (detail)" — the text after `violates PodSecurity "…": `. */
export function forbiddenDetail(failures: readonly CheckResult[]): string {
  return failures.map((f) => (f.detail ? `${f.reason} (${f.detail})` : f.reason)).join(', ');
}

/** "reason, reason" — how the namespace check sums up a pod. */
export function forbiddenReasons(failures: readonly CheckResult[]): string {
  return failures.map((f) => f.reason).join(', ');
}
