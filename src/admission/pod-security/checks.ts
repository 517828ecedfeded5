/**
 * The Pod Security Standards as checks (after k8s.io/pod-security-admission/policy): each check
 * belongs to a level, applies from a policy version on, and either passes or names what it
 * forbids — a short reason ("privileged") and a detail saying which containers must change what.
 * The wording is upstream's, so messages read the same as a real cluster's.
 */
import type { Fields as Obj } from '../../registry/common/fields.js';

export type Level = 'privileged' | 'baseline' | 'restricted';

/** A policy version: "latest" or a minor of 1.x. */
export type Version = { latest: true } | { latest: false; minor: number };

export interface CheckResult {
  reason: string;
  detail: string;
}

interface Container {
  name?: string;
  securityContext?: Obj;
  ports?: Array<{ hostPort?: number }>;
}

interface VersionedCheck {
  /** The first 1.x minor this variant applies to. */
  minMinor: number;
  check: (meta: Obj, spec: Obj, minor: number) => CheckResult | undefined;
}

export interface Check {
  id: string;
  level: 'baseline' | 'restricted';
  /** Baseline checks this one replaces at the restricted level. */
  overrides?: string[];
  versions: VersionedCheck[];
}

function containersOf(spec: Obj): Container[] {
  const list = (value: unknown) => (Array.isArray(value) ? (value as Container[]).filter((c) => c && typeof c === 'object') : []);
  return [...list(spec.initContainers), ...list(spec.containers), ...list(spec.ephemeralContainers)];
}

function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

function joinQuote(items: readonly string[]): string {
  return items.map((item) => JSON.stringify(item)).join(', ');
}

function sortedUnique(items: Iterable<string>): string[] {
  return [...new Set(items)].sort();
}

function containerPhrase(names: readonly string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

const isWindows = (spec: Obj) => spec.os?.name === 'windows';
const podContext = (spec: Obj): Obj | undefined => (spec.securityContext && typeof spec.securityContext === 'object' ? spec.securityContext : undefined);

function privileged(_meta: Obj, spec: Obj): CheckResult | undefined {
  const bad = containersOf(spec).filter((c) => c.securityContext?.privileged === true).map((c) => String(c.name ?? ''));
  if (bad.length === 0) return undefined;
  return { reason: 'privileged', detail: `${containerPhrase(bad)} must not set securityContext.privileged=true` };
}

function hostNamespaces(_meta: Obj, spec: Obj): CheckResult | undefined {
  const used = ['hostNetwork', 'hostPID', 'hostIPC'].filter((field) => spec[field] === true).map((field) => `${field}=true`);
  if (used.length === 0) return undefined;
  return { reason: 'host namespaces', detail: used.join(', ') };
}

const DEFAULT_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

function addedCapabilities(container: Container): string[] {
  const add = container.securityContext?.capabilities?.add;
  return Array.isArray(add) ? add.map(String) : [];
}

function capabilitiesBaseline(_meta: Obj, spec: Obj): CheckResult | undefined {
  const bad: string[] = [];
  const capabilities = new Set<string>();
  for (const container of containersOf(spec)) {
    const extra = addedCapabilities(container).filter((c) => !DEFAULT_CAPABILITIES.has(c));
    if (extra.length === 0) continue;
    bad.push(String(container.name ?? ''));
    for (const c of extra) capabilities.add(c);
  }
  if (bad.length === 0) return undefined;
  return { reason: 'non-default capabilities', detail: `${containerPhrase(bad)} must not include ${joinQuote(sortedUnique(capabilities))} in securityContext.capabilities.add` };
}

function hostPathVolumes(_meta: Obj, spec: Obj): CheckResult | undefined {
  const volumes = (Array.isArray(spec.volumes) ? spec.volumes : []).filter((v: Obj) => v?.hostPath).map((v: Obj) => String(v.name ?? ''));
  if (volumes.length === 0) return undefined;
  return { reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', volumes.length)} ${joinQuote(volumes)}` };
}

function hostPorts(_meta: Obj, spec: Obj): CheckResult | undefined {
  const bad: string[] = [];
  const ports = new Set<number>();
  for (const container of containersOf(spec)) {
    const used = (Array.isArray(container.ports) ? container.ports : []).map((p) => p?.hostPort ?? 0).filter((p) => p !== 0);
    if (used.length === 0) continue;
    bad.push(String(container.name ?? ''));
    for (const p of used) ports.add(p);
  }
  if (bad.length === 0) return undefined;
  const list = sortedUnique([...ports].map(String));
  return { reason: 'hostPort', detail: `${containerPhrase(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', list.length)} ${list.join(', ')}` };
}

/** "pod", "container \"a\"" … joined with " and ", as upstream names who set a forbidden value. */
function setters(podIsBad: boolean, badContainers: readonly string[]): string[] {
  const who: string[] = podIsBad ? ['pod'] : [];
  if (badContainers.length > 0) who.push(containerPhrase(badContainers));
  return who;
}

function hostProcess(_meta: Obj, spec: Obj): CheckResult | undefined {
  const bad = containersOf(spec).filter((c) => c.securityContext?.windowsOptions?.hostProcess === true).map((c) => String(c.name ?? ''));
  const who = setters(podContext(spec)?.windowsOptions?.hostProcess === true, bad);
  if (who.length === 0) return undefined;
  return { reason: 'hostProcess', detail: `${who.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` };
}

const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);

function seLinuxOptions(_meta: Obj, spec: Obj): CheckResult | undefined {
  const badTypes = new Set<string>();
  let setUser = false;
  let setRole = false;
  const valid = (options: Obj | undefined) => {
    if (!options || typeof options !== 'object') return true;
    let ok = true;
    const type = String(options.type ?? '');
    if (!SELINUX_TYPES.has(type)) {
      ok = false;
      badTypes.add(type);
    }
    if (options.user) {
      ok = false;
      setUser = true;
    }
    if (options.role) {
      ok = false;
      setRole = true;
    }
    return ok;
  };
  const podBad = !valid(podContext(spec)?.seLinuxOptions);
  const bad = containersOf(spec).filter((c) => !valid(c.securityContext?.seLinuxOptions)).map((c) => String(c.name ?? ''));
  const who = setters(podBad, bad);
  if (who.length === 0) return undefined;
  const data: string[] = [];
  if (badTypes.size > 0) data.push(`${pluralize('type', 'types', badTypes.size)} ${joinQuote(sortedUnique(badTypes))}`);
  if (setUser) data.push('user may not be set');
  if (setRole) data.push('role may not be set');
  return { reason: 'seLinuxOptions', detail: `${who.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}` };
}

function procMount(_meta: Obj, spec: Obj): CheckResult | undefined {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const container of containersOf(spec)) {
    const value = container.securityContext?.procMount;
    if (value === undefined || value === null || value === 'Default') continue;
    bad.push(String(container.name ?? ''));
    types.add(String(value));
  }
  if (bad.length === 0) return undefined;
  return { reason: 'procMount', detail: `${containerPhrase(bad)} must not set securityContext.procMount to ${joinQuote(sortedUnique(types))}` };
}

const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION = 'container.seccomp.security.alpha.kubernetes.io/';

function validSeccompAnnotation(value: string): boolean {
  return value === 'runtime/default' || value === 'docker/default' || value.startsWith('localhost/');
}

function seccompBaselineAnnotations(meta: Obj, spec: Obj): CheckResult | undefined {
  const annotations: Record<string, string> = meta.annotations ?? {};
  const forbidden = new Set<string>();
  const keys = [SECCOMP_POD_ANNOTATION, ...containersOf(spec).map((c) => SECCOMP_CONTAINER_ANNOTATION + (c.name ?? ''))];
  for (const key of keys) {
    const value = annotations[key];
    if (value !== undefined && !validSeccompAnnotation(value)) forbidden.add(`${key}=${JSON.stringify(value)}`);
  }
  if (forbidden.size === 0) return undefined;
  return { reason: 'seccompProfile', detail: `forbidden ${pluralize('annotation', 'annotations', forbidden.size)} ${sortedUnique(forbidden).join(', ')}` };
}

const validSeccompType = (type: unknown) => type === 'RuntimeDefault' || type === 'Localhost';

/** Who sets seccompProfile.type to a bad value, and which containers leave it unset (restricted needs it). */
function seccompSetters(spec: Obj) {
  const badValues = new Set<string>();
  const podProfile = podContext(spec)?.seccompProfile;
  const podBad = !!podProfile && !validSeccompType(podProfile.type);
  if (podBad) badValues.add(String(podProfile.type ?? ''));
  const podSet = !!podProfile && !podBad;
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const container of containersOf(spec)) {
    const profile = container.securityContext?.seccompProfile;
    if (profile) {
      if (!validSeccompType(profile.type)) {
        explicit.push(String(container.name ?? ''));
        badValues.add(String(profile.type ?? ''));
      }
    } else if (!podSet) implicit.push(String(container.name ?? ''));
  }
  return { who: setters(podBad, explicit), badValues: sortedUnique(badValues), implicit };
}

function seccompBaseline(_meta: Obj, spec: Obj): CheckResult | undefined {
  const { who, badValues } = seccompSetters(spec);
  if (who.length === 0) return undefined;
  return { reason: 'seccompProfile', detail: `${who.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(badValues)}` };
}

function seccompRestricted(meta: Obj, spec: Obj, minor: number): CheckResult | undefined {
  if (minor >= 25 && isWindows(spec)) return undefined;
  const found = seccompBaseline(meta, spec);
  if (found) return found;
  const { implicit } = seccompSetters(spec);
  if (implicit.length === 0) return undefined;
  return { reason: 'seccompProfile', detail: `pod or ${containerPhrase(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
}

const SYSCTLS_BY_MINOR: Array<[number, string[]]> = [
  [0, ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start']],
  [27, ['net.ipv4.ip_local_reserved_ports']],
  [29, ['net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']],
  [32, ['net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem']],
];

function sysctls(_meta: Obj, spec: Obj, minor: number): CheckResult | undefined {
  const allowed = new Set(SYSCTLS_BY_MINOR.filter(([from]) => minor >= from).flatMap(([, names]) => names));
  const list = podContext(spec)?.sysctls;
  const forbidden = (Array.isArray(list) ? list : []).map((s: Obj) => String(s?.name ?? '')).filter((name: string) => !allowed.has(name));
  if (forbidden.length === 0) return undefined;
  return { reason: 'forbidden sysctls', detail: forbidden.join(', ') };
}

const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

function appArmorProfile(meta: Obj, spec: Obj): CheckResult | undefined {
  const allowedType = (type: unknown) => type === 'RuntimeDefault' || type === 'Localhost';
  const badValues = new Set<string>();
  const podProfile = podContext(spec)?.appArmorProfile;
  const podBad = !!podProfile && !allowedType(podProfile.type);
  if (podBad) badValues.add(String(podProfile.type ?? ''));
  const bad: string[] = [];
  for (const container of containersOf(spec)) {
    const profile = container.securityContext?.appArmorProfile;
    if (profile && !allowedType(profile.type)) {
      bad.push(String(container.name ?? ''));
      badValues.add(String(profile.type ?? ''));
    }
  }
  const who = setters(podBad, bad);
  const annotations: string[] = [];
  for (const [key, value] of Object.entries((meta.annotations ?? {}) as Record<string, string>)) {
    if (key.startsWith(APPARMOR_ANNOTATION) && !(value === '' || value === 'runtime/default' || value.startsWith('localhost/'))) annotations.push(`${key}=${JSON.stringify(value)}`);
  }
  annotations.sort();
  const values = [...sortedUnique(badValues), ...annotations];
  if (annotations.length > 0) who.push(pluralize('annotation', 'annotations', annotations.length));
  if (who.length === 0) return undefined;
  return {
    reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
    detail: `${who.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`,
  };
}

function allowPrivilegeEscalation(_meta: Obj, spec: Obj, minor: number): CheckResult | undefined {
  if (minor >= 25 && isWindows(spec)) return undefined;
  const bad = containersOf(spec).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => String(c.name ?? ''));
  if (bad.length === 0) return undefined;
  return { reason: 'allowPrivilegeEscalation != false', detail: `${containerPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false` };
}

function capabilitiesRestricted(_meta: Obj, spec: Obj, minor: number): CheckResult | undefined {
  if (minor >= 25 && isWindows(spec)) return undefined;
  const missingDropAll: string[] = [];
  const addingForbidden: string[] = [];
  const forbidden = new Set<string>();
  for (const container of containersOf(spec)) {
    const capabilities = container.securityContext?.capabilities;
    const name = String(container.name ?? '');
    if (!capabilities) {
      missingDropAll.push(name);
      continue;
    }
    if (!(Array.isArray(capabilities.drop) && capabilities.drop.includes('ALL'))) missingDropAll.push(name);
    const extra = addedCapabilities(container).filter((c) => c !== 'NET_BIND_SERVICE');
    if (extra.length > 0) {
      addingForbidden.push(name);
      for (const c of extra) forbidden.add(c);
    }
  }
  const details: string[] = [];
  if (missingDropAll.length > 0) details.push(`${containerPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  if (addingForbidden.length > 0) details.push(`${containerPhrase(addingForbidden)} must not include ${joinQuote(sortedUnique(forbidden))} in securityContext.capabilities.add`);
  if (details.length === 0) return undefined;
  return { reason: 'unrestricted capabilities', detail: details.join('; ') };
}

const ALLOWED_VOLUME_SOURCES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const RESTRICTED_VOLUME_SOURCES = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'nfs', 'iscsi', 'glusterfs', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'fc',
  'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos',
];

function restrictedVolumes(_meta: Obj, spec: Obj): CheckResult | undefined {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const volume of (Array.isArray(spec.volumes) ? spec.volumes : []) as Obj[]) {
    if (!volume || typeof volume !== 'object') continue;
    if (ALLOWED_VOLUME_SOURCES.some((source) => volume[source] !== undefined && volume[source] !== null)) continue;
    bad.push(String(volume.name ?? ''));
    types.add(RESTRICTED_VOLUME_SOURCES.find((source) => volume[source] !== undefined && volume[source] !== null) ?? 'unknown');
  }
  if (bad.length === 0) return undefined;
  const list = sortedUnique(types);
  return {
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('restricted volume type', 'restricted volume types', list.length)} ${joinQuote(list)}`,
  };
}

function runAsNonRoot(_meta: Obj, spec: Obj): CheckResult | undefined {
  const podValue = podContext(spec)?.runAsNonRoot;
  const podBad = podValue === false;
  const podNonRoot = podValue === true;
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const container of containersOf(spec)) {
    const value = container.securityContext?.runAsNonRoot;
    if (value !== undefined && value !== null) {
      if (value === false) explicit.push(String(container.name ?? ''));
    } else if (!podNonRoot) implicit.push(String(container.name ?? ''));
  }
  const who = setters(podBad, explicit);
  if (who.length > 0) return { reason: 'runAsNonRoot != true', detail: `${who.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length > 0) return { reason: 'runAsNonRoot != true', detail: `pod or ${containerPhrase(implicit)} must set securityContext.runAsNonRoot=true` };
  return undefined;
}

function runAsUser(_meta: Obj, spec: Obj): CheckResult | undefined {
  const bad = containersOf(spec).filter((c) => c.securityContext?.runAsUser === 0).map((c) => String(c.name ?? ''));
  const who = setters(podContext(spec)?.runAsUser === 0, bad);
  if (who.length === 0) return undefined;
  return { reason: 'runAsUser=0', detail: `${who.join(' and ')} must not set runAsUser=0` };
}

const always = (check: VersionedCheck['check']): VersionedCheck[] => [{ minMinor: 0, check }];

/** Every check, in upstream's order (by id), which is the order their reasons are listed in. */
export const CHECKS: readonly Check[] = ([
  { id: 'allowPrivilegeEscalation', level: 'restricted', versions: [{ minMinor: 8, check: allowPrivilegeEscalation }] },
  { id: 'appArmorProfile', level: 'baseline', versions: always(appArmorProfile) },
  { id: 'capabilities_baseline', level: 'baseline', versions: always(capabilitiesBaseline) },
  { id: 'capabilities_restricted', level: 'restricted', overrides: ['capabilities_baseline'], versions: [{ minMinor: 22, check: capabilitiesRestricted }] },
  { id: 'hostNamespaces', level: 'baseline', versions: always(hostNamespaces) },
  { id: 'hostPathVolumes', level: 'baseline', versions: always(hostPathVolumes) },
  { id: 'hostPorts', level: 'baseline', versions: always(hostPorts) },
  { id: 'privileged', level: 'baseline', versions: always(privileged) },
  { id: 'procMount', level: 'baseline', versions: always(procMount) },
  { id: 'restrictedVolumes', level: 'restricted', overrides: ['hostPathVolumes'], versions: always(restrictedVolumes) },
  { id: 'runAsNonRoot', level: 'restricted', versions: always(runAsNonRoot) },
  { id: 'runAsUser', level: 'restricted', versions: [{ minMinor: 23, check: runAsUser }] },
  { id: 'seLinuxOptions', level: 'baseline', versions: always(seLinuxOptions) },
  { id: 'seccompProfile_baseline', level: 'baseline', versions: [{ minMinor: 0, check: seccompBaselineAnnotations }, { minMinor: 19, check: seccompBaseline }] },
  { id: 'seccompProfile_restricted', level: 'restricted', overrides: ['seccompProfile_baseline'], versions: [{ minMinor: 19, check: seccompRestricted }] },
  { id: 'sysctls', level: 'baseline', versions: always(sysctls) },
  { id: 'windowsHostProcess', level: 'baseline', versions: always(hostProcess) },
] satisfies Check[]).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
