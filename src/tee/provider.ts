import { access } from 'node:fs/promises';
import { bindingReportData, type EvidenceBinding } from './binding.js';
import { TSM_REPORT_ROOT, readTsmProvider, requestTsmReport } from './configfs-tsm.js';
import { callNsmHelper, decodeNsmAttestationResponse, encodeNsmAttestationRequest } from './nsm.js';
import { encodeSevSnpEvidence, vcekFromCertificateTable } from './sev-snp-evidence.js';
import { createSimulatedProvider } from './simulated.js';

export type EvidenceFormat = 'nitro' | 'tdx' | 'sev-snp' | 'simulated';
export type ProviderName = 'auto' | EvidenceFormat | 'none';

/** Produces evidence that binds the server's TLS key (and a verifier's nonce) to this TEE. */
export interface AttestationProvider {
  readonly format: EvidenceFormat;
  evidence(binding: EvidenceBinding): Promise<Buffer>;
}

export interface ProviderOptions {
  /** Where the simulated provider keeps its root; in memory when absent. */
  readonly dataDir?: string;
  /** Executable that performs the /dev/nsm ioctl; defaults to $NAUTILUS_NSM_HELPER. */
  readonly nsmHelper?: string;
  readonly tsmRoot?: string;
}

const TSM_PROVIDER_FORMATS: Record<string, 'tdx' | 'sev-snp'> = { tdx_guest: 'tdx', sev_guest: 'sev-snp' };
const LEGACY_DEVICES = ['/dev/tdx_guest', '/dev/sev-guest'];

/**
 * Picks the attestation provider. "auto" probes the machine (Nitro's /dev/nsm, then configfs-tsm
 * for TDX/SEV-SNP) and answers undefined on ordinary hardware; "none" disables attestation.
 */
export async function selectProvider(name: ProviderName, options: ProviderOptions = {}): Promise<AttestationProvider | undefined> {
  const tsmRoot = options.tsmRoot ?? TSM_REPORT_ROOT;
  switch (name) {
    case 'none':
      return undefined;
    case 'simulated':
      return createSimulatedProvider(options.dataDir ? { dataDir: options.dataDir } : {});
    case 'nitro':
      return nitroProvider(options.nsmHelper ?? process.env.NAUTILUS_NSM_HELPER);
    case 'tdx':
    case 'sev-snp':
      return tsmProvider(name, tsmRoot);
    case 'auto':
      return detectProvider(options, tsmRoot);
  }
}

async function detectProvider(options: ProviderOptions, tsmRoot: string): Promise<AttestationProvider | undefined> {
  if (await exists('/dev/nsm')) return nitroProvider(options.nsmHelper ?? process.env.NAUTILUS_NSM_HELPER);
  const tsmProviderName = (await exists(tsmRoot)) ? await readTsmProvider(tsmRoot) : undefined;
  const format = tsmProviderName ? TSM_PROVIDER_FORMATS[tsmProviderName] : undefined;
  if (format) return tsmProvider(format, tsmRoot);
  for (const device of LEGACY_DEVICES) {
    if (await exists(device)) throw new Error(`attestation: found ${device} but no configfs-tsm at ${tsmRoot}; Nautilus needs configfs-tsm (Linux 6.7+) to request reports`);
  }
  return undefined;
}

function nitroProvider(helper: string | undefined): AttestationProvider {
  if (!helper) {
    throw new Error('attestation: the Nitro Secure Module is reached by an ioctl plain Node.js cannot issue; set NAUTILUS_NSM_HELPER to the helper executable (see docs/attestation.md)');
  }
  return {
    format: 'nitro',
    async evidence(binding) {
      const request = encodeNsmAttestationRequest({
        publicKey: binding.publicKeySpkiDer,
        userData: bindingReportData(binding),
        ...(binding.nonce && { nonce: binding.nonce }),
      });
      return decodeNsmAttestationResponse(await callNsmHelper(helper, request));
    },
  };
}

async function tsmProvider(format: 'tdx' | 'sev-snp', tsmRoot: string): Promise<AttestationProvider> {
  if (!(await exists(tsmRoot))) throw new Error(`attestation: ${format} needs configfs-tsm at ${tsmRoot} (Linux 6.7+ guest with configfs mounted)`);
  return {
    format,
    async evidence(binding) {
      const report = await requestTsmReport(bindingReportData(binding), tsmRoot);
      const expected = Object.entries(TSM_PROVIDER_FORMATS).find(([, candidate]) => candidate === format)![0];
      if (report.provider !== expected) throw new Error(`attestation: configfs-tsm provider is ${report.provider}, expected ${expected}`);
      if (format === 'tdx') return report.outblob;
      const vcek = report.auxblob && vcekFromCertificateTable(report.auxblob);
      return encodeSevSnpEvidence({ report: report.outblob, ...(vcek && { vcek }) });
    },
  };
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
