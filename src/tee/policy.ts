import { parse as parseYaml } from 'yaml';
import type { TcbStatus } from './dcap-collateral.js';
import type { DocumentFormat, VerifiedEvidence } from './verify-evidence.js';

/**
 * What a verifier demands of a TEE beyond a valid signature: which code (measurements), no debug
 * mode, and for Intel a good enough TCB status. Written as YAML, e.g.
 *
 *   format: nitro
 *   pcrs: { 0: <hex>, 1: <hex>, 2: <hex> }
 *   allowDebug: false
 */
export interface AttestationPolicy {
  readonly format?: DocumentFormat;
  readonly pcrs?: ReadonlyMap<number, string>;
  readonly measurement?: string;
  readonly hostData?: string;
  readonly mrtd?: string;
  readonly rtmr?: ReadonlyMap<number, string>;
  readonly mrenclave?: string;
  readonly mrsigner?: string;
  readonly allowDebug: boolean;
  /** Intel TCB statuses accepted; by default only UpToDate. */
  readonly allowedTcbStatuses: readonly TcbStatus[];
}

/** Intel TCB statuses from best to worst; minTcbStatus accepts that status and every better one. */
export const TCB_STATUS_ORDER: readonly TcbStatus[] = [
  'UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded',
  'OutOfDate', 'OutOfDateConfigurationNeeded', 'Revoked',
];

const FORMATS: readonly DocumentFormat[] = ['nitro', 'simulated', 'sev-snp', 'tdx', 'sgx'];
// Which formats each measurement key applies to, so a policy cannot silently demand nothing.
const FIELD_FORMATS: Record<string, readonly DocumentFormat[]> = {
  pcrs: ['nitro', 'simulated'],
  measurement: ['sev-snp'],
  hostData: ['sev-snp'],
  mrtd: ['tdx'],
  rtmr: ['tdx'],
  mrenclave: ['sgx'],
  mrsigner: ['sgx'],
  minTcbStatus: ['tdx', 'sgx'],
  allowedTcbStatuses: ['tdx', 'sgx'],
};
const KNOWN_KEYS = new Set(['format', 'allowDebug', ...Object.keys(FIELD_FORMATS)]);

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

export function parsePolicy(yamlText: string): AttestationPolicy {
  let document: unknown;
  try {
    document = parseYaml(yamlText);
  } catch (error) {
    throw new PolicyError(`policy: not valid YAML (${(error as Error).message})`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new PolicyError('policy: must be a YAML mapping');
  const fields = document as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!KNOWN_KEYS.has(key)) throw new PolicyError(`policy: unknown key "${key}" (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  const format = fields.format;
  if (format !== undefined && !FORMATS.includes(format as DocumentFormat)) throw new PolicyError(`policy: format must be one of ${FORMATS.join(', ')}`);
  if (format !== undefined) {
    for (const [key, formats] of Object.entries(FIELD_FORMATS)) {
      if (key in fields && !formats.includes(format as DocumentFormat)) throw new PolicyError(`policy: ${key} does not apply to format ${String(format)}`);
    }
  }
  if (fields.allowDebug !== undefined && typeof fields.allowDebug !== 'boolean') throw new PolicyError('policy: allowDebug must be true or false');
  const optional = <T>(key: string, value: T | undefined): Partial<Record<string, T>> => (value === undefined ? {} : { [key]: value });
  return {
    ...(format !== undefined && { format: format as DocumentFormat }),
    ...optional('pcrs', indexedHex(fields.pcrs, 'pcrs', 31, [32, 48, 64])),
    ...optional('measurement', hex(fields.measurement, 'measurement', [48])),
    ...optional('hostData', hex(fields.hostData, 'hostData', [32])),
    ...optional('mrtd', hex(fields.mrtd, 'mrtd', [48])),
    ...optional('rtmr', indexedHex(fields.rtmr, 'rtmr', 3, [48])),
    ...optional('mrenclave', hex(fields.mrenclave, 'mrenclave', [32])),
    ...optional('mrsigner', hex(fields.mrsigner, 'mrsigner', [32])),
    allowDebug: fields.allowDebug === true,
    allowedTcbStatuses: tcbStatuses(fields.minTcbStatus, fields.allowedTcbStatuses),
  };
}

function hex(value: unknown, key: string, lengths: readonly number[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' || typeof value === 'bigint') throw new PolicyError(`policy: ${key} was read as a number; quote the hex digest so YAML keeps it a string`);
  const text = typeof value === 'string' ? value.replace(/^0x/i, '').toLowerCase() : '';
  if (!/^([0-9a-f]{2})+$/.test(text) || !lengths.includes(text.length / 2)) {
    throw new PolicyError(`policy: ${key} must be ${lengths.join(' or ')} bytes of hex`);
  }
  return text;
}

/** A map of register index to hex digest: `{0: ab…, 2: cd…}` or a list for consecutive indexes. */
function indexedHex(value: unknown, key: string, maxIndex: number, lengths: readonly number[]): Map<number, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) throw new PolicyError(`policy: ${key} must map register indexes to hex digests`);
  const entries = Array.isArray(value) ? value.map((digest, index) => [String(index), digest] as const) : Object.entries(value);
  const result = new Map<number, string>();
  for (const [indexText, digest] of entries) {
    const index = Number(indexText);
    if (!Number.isInteger(index) || index < 0 || index > maxIndex) throw new PolicyError(`policy: ${key} index ${indexText} is out of range 0..${maxIndex}`);
    result.set(index, hex(digest, `${key}[${index}]`, lengths)!);
  }
  return result;
}

function tcbStatuses(minimum: unknown, allowed: unknown): TcbStatus[] {
  if (minimum !== undefined && allowed !== undefined) throw new PolicyError('policy: give minTcbStatus or allowedTcbStatuses, not both');
  const known = (status: unknown, key: string): TcbStatus => {
    if (!TCB_STATUS_ORDER.includes(status as TcbStatus)) throw new PolicyError(`policy: ${key} ${String(status)} is not one of ${TCB_STATUS_ORDER.join(', ')}`);
    return status as TcbStatus;
  };
  if (Array.isArray(allowed)) return allowed.map((status) => known(status, 'allowedTcbStatuses'));
  if (allowed !== undefined) throw new PolicyError('policy: allowedTcbStatuses must be a list');
  const floor = minimum === undefined ? 'UpToDate' : known(minimum, 'minTcbStatus');
  return TCB_STATUS_ORDER.slice(0, TCB_STATUS_ORDER.indexOf(floor) + 1);
}

/** Every way the verified evidence falls short of the policy; empty when it complies. */
export function checkPolicy(result: VerifiedEvidence, policy: AttestationPolicy): string[] {
  const failures: string[] = [];
  const simulated = result.format === 'nitro' && result.simulated;
  const actualFormat: DocumentFormat = simulated ? 'simulated' : result.format;
  if (policy.format && policy.format !== actualFormat) failures.push(`format: policy requires ${policy.format}, evidence is ${actualFormat}`);
  const compare = (name: string, actual: Buffer | undefined, expected: string | undefined): void => {
    if (expected === undefined) return;
    const actualHex = actual?.toString('hex');
    if (actualHex !== expected) failures.push(`${name}: expected ${expected}, got ${actualHex ?? '(absent)'}`);
  };
  if (!policy.allowDebug && result.debug) failures.push('debug: the TEE runs in debug mode, which the policy does not allow');
  switch (result.format) {
    case 'nitro':
      policy.pcrs?.forEach((digest, index) => compare(`PCR${index}`, result.pcrs.get(index), digest));
      break;
    case 'sev-snp':
      compare('measurement', result.measurement, policy.measurement);
      compare('hostData', result.hostData, policy.hostData);
      break;
    case 'tdx':
      compare('mrtd', result.mrTd, policy.mrtd);
      policy.rtmr?.forEach((digest, index) => compare(`rtmr${index}`, result.rtmrs[index], digest));
      break;
    case 'sgx':
      compare('mrenclave', result.mrEnclave, policy.mrenclave);
      compare('mrsigner', result.mrSigner, policy.mrsigner);
      break;
  }
  if ((result.format === 'tdx' || result.format === 'sgx') && !policy.allowedTcbStatuses.includes(result.tcbStatus)) {
    failures.push(`tcbStatus: ${result.tcbStatus} is not allowed (allowed: ${policy.allowedTcbStatuses.join(', ')}; advisories: ${result.advisoryIds.join(', ') || 'none'})`);
  }
  return failures;
}
