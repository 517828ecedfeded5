/** `nautilus measure`: the measurements a verifier should expect, written as a policy file. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { PolicyError, parsePolicy, type AttestationPolicy } from '../tee/policy.js';
import { defaultCodeRoot, simulatedPcrs } from '../tee/simulated.js';
import type { CommandIo } from './verify.js';
import { reportUsageError } from './usage.js';

const USAGE = `Usage:
  nautilus measure [--code-root DIR]             policy for the simulated provider running this build
  nautilus measure --eif-measurements FILE       policy from \`nitro-cli build-enclave\` JSON output
  nautilus measure --policy FILE                 print the measurements a policy expects

The output is a policy for \`nautilus verify --policy\`. Real TEE measurements come from a
reproducible build (see docs/attestation.md): the EIF's PCR0..2 for Nitro, the launch
measurement for SEV-SNP, MRTD/RTMRs for TDX.
`;

const OPTIONS = {
  'code-root': { type: 'string' },
  'eif-measurements': { type: 'string' },
  policy: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function run(argv: string[], io: CommandIo = process): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false }));
  } catch (error) {
    return reportUsageError(io.stderr, 'measure', (error as Error).message);
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if ([values.policy, values['eif-measurements'], values['code-root']].filter(Boolean).length > 1) {
    return reportUsageError(io.stderr, 'measure', 'give at most one of --policy, --eif-measurements, --code-root');
  }
  try {
    if (values.policy) io.stdout.write(describePolicy(parsePolicy(await readFile(values.policy, 'utf8'))));
    else if (values['eif-measurements']) io.stdout.write(eifPolicy(await readFile(values['eif-measurements'], 'utf8')));
    else io.stdout.write(await simulatedPolicy(values['code-root'] ?? defaultCodeRoot()));
    return 0;
  } catch (error) {
    const prefix = error instanceof PolicyError ? 'invalid policy' : 'error';
    io.stderr.write(`${prefix}: ${(error as Error).message}\n`);
    return 1;
  }
}

async function simulatedPolicy(codeRoot: string): Promise<string> {
  const pcrs = await simulatedPcrs(codeRoot);
  const header = [
    `# Expected PCRs of the simulated provider (NOT a TEE) for the code in ${codeRoot}`,
    `# on Node.js ${process.version} ${process.platform}-${process.arch}. Verify with --allow-simulated --ca-file <root>.`,
  ];
  const expected = new Map([0, 1, 2].map((index) => [index, pcrs.get(index)!.toString('hex')]));
  return `${header.join('\n')}\n${policyYaml('simulated', expected)}`;
}

/** `nitro-cli build-enclave` prints {"Measurements": {"HashAlgorithm": …, "PCR0": hex, "PCR1": hex, "PCR2": hex}}. */
function eifPolicy(jsonText: string): string {
  let measurements: Record<string, unknown> | undefined;
  try {
    measurements = (JSON.parse(jsonText) as { Measurements?: Record<string, unknown> }).Measurements;
  } catch (error) {
    throw new Error(`EIF measurements are not JSON (${(error as Error).message})`);
  }
  if (!measurements) throw new Error('EIF measurements JSON has no "Measurements" object');
  const pcrs = new Map<number, string>();
  for (const index of [0, 1, 2]) {
    const value = measurements[`PCR${index}`];
    if (typeof value !== 'string') throw new Error(`EIF measurements lack PCR${index}`);
    pcrs.set(index, value.toLowerCase());
  }
  const text = `# Expected PCRs of the enclave image (from nitro-cli build-enclave)\n${policyYaml('nitro', pcrs)}`;
  parsePolicy(text); // the output must be a valid policy, e.g. PCRs of the right length
  return text;
}

function policyYaml(format: 'simulated' | 'nitro', pcrs: Map<number, string>): string {
  return stringify({ format, pcrs, allowDebug: false }, { lineWidth: 0 });
}

function describePolicy(policy: AttestationPolicy): string {
  const lines = [`format: ${policy.format ?? '(any)'}`];
  policy.pcrs?.forEach((digest, index) => lines.push(`PCR${index}: ${digest}`));
  if (policy.measurement) lines.push(`measurement: ${policy.measurement}`);
  if (policy.hostData) lines.push(`hostData: ${policy.hostData}`);
  if (policy.mrtd) lines.push(`mrtd: ${policy.mrtd}`);
  policy.rtmr?.forEach((digest, index) => lines.push(`rtmr${index}: ${digest}`));
  if (policy.mrenclave) lines.push(`mrenclave: ${policy.mrenclave}`);
  if (policy.mrsigner) lines.push(`mrsigner: ${policy.mrsigner}`);
  lines.push(`allowDebug: ${policy.allowDebug}`, `allowedTcbStatuses (Intel): ${policy.allowedTcbStatuses.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
