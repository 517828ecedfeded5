import { access, readFile } from 'node:fs/promises';
import { createAwsKmsClient, awsCredentialsFromEnv } from './aws-kms.js';
import type { KeyProvider } from './key-provider.js';
import { createLocalKeyProvider } from './local.js';
import { createNitroKmsKeyProvider } from './nitro-kms.js';
import { postJson } from './post-json.js';
import { createSevSnpKeyProvider } from './sev-snp.js';
import { createTdxKeyProvider, type TdxKeyReleaseResponse } from './tdx.js';
import { callDeviceHelper } from '../../tee/device-helper.js';
import { TSM_REPORT_ROOT, readTsmProvider, requestTsmReport } from '../../tee/configfs-tsm.js';
import { selectProvider, type ProviderName } from '../../tee/provider.js';

/**
 * `serve --key-provider`: where the data key comes from. Opening a provider checks that its TEE
 * device is there and its settings are complete, so a misconfigured start fails at once with a
 * reason, before anything is written; the key itself is fetched by dataKey().
 */
export const KEY_PROVIDER_NAMES = ['local', 'nitro-kms', 'sev-snp', 'tdx'] as const;
export type KeyProviderName = (typeof KEY_PROVIDER_NAMES)[number];

export interface KeyProviderSettings {
  dataDir: string;
  /** nitro-kms: the attestation source, as --tee names it (nitro, auto, or simulated for tests). */
  tee?: ProviderName;
  /** nitro-kms: --kms-key-id, --kms-region (else AWS_REGION), --kms-endpoint (the vsock proxy). */
  kmsKeyId?: string;
  kmsRegion?: string;
  kmsEndpoint?: string;
  /** tdx: --key-release-url and --key-release-ca. */
  keyReleaseUrl?: string;
  keyReleaseCaFile?: string;
  /** Environment: AWS credentials, NAUTILUS_NSM_HELPER, NAUTILUS_SNP_HELPER. */
  env?: NodeJS.ProcessEnv;
  /** Device paths, for tests and unusual kernels. */
  devices?: { nsm?: string; sevGuest?: string; tsmRoot?: string };
}

export class KeyProviderUnavailableError extends Error {
  override readonly name = 'KeyProviderUnavailableError';
}

const unavailable = (name: KeyProviderName, reason: string): never => {
  throw new KeyProviderUnavailableError(`--key-provider ${name}: ${reason}`);
};

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

export async function openKeyProvider(name: KeyProviderName, settings: KeyProviderSettings): Promise<KeyProvider> {
  const env = settings.env ?? process.env;
  switch (name) {
    case 'local':
      return createLocalKeyProvider(settings.dataDir);
    case 'nitro-kms':
      return openNitroKms(settings, env);
    case 'sev-snp':
      return openSevSnp(settings, env);
    case 'tdx':
      return openTdx(settings);
  }
}

async function openNitroKms(settings: KeyProviderSettings, env: NodeJS.ProcessEnv): Promise<KeyProvider> {
  const tee = settings.tee ?? 'auto';
  if (tee !== 'auto' && tee !== 'nitro' && tee !== 'simulated') {
    unavailable('nitro-kms', `KMS admits an enclave by its Nitro attestation document; --tee ${tee} gives none (use --tee nitro or auto)`);
  }
  const nsm = settings.devices?.nsm ?? '/dev/nsm';
  if (tee !== 'simulated' && !(await exists(nsm))) {
    unavailable('nitro-kms', `the Nitro Secure Module ${nsm} is absent: this is not a Nitro enclave`);
  }
  if (!settings.kmsKeyId) unavailable('nitro-kms', 'needs --kms-key-id, the KMS key whose policy admits this enclave\'s PCRs');
  const region = settings.kmsRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) unavailable('nitro-kms', 'needs --kms-region (or AWS_REGION)');
  const credentials = awsCredentialsFromEnv(env);
  if (!credentials) unavailable('nitro-kms', 'needs AWS credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), passed in by the parent instance');
  let attestation;
  try {
    attestation = await selectProvider(tee === 'simulated' ? 'simulated' : 'nitro', { dataDir: settings.dataDir, ...(env.NAUTILUS_NSM_HELPER && { nsmHelper: env.NAUTILUS_NSM_HELPER }) });
  } catch (error) {
    return unavailable('nitro-kms', (error as Error).message);
  }
  return createNitroKmsKeyProvider({
    dataDir: settings.dataDir,
    keyId: settings.kmsKeyId!,
    attest: (publicKeySpkiDer) => attestation!.evidence({ publicKeySpkiDer }),
    kms: createAwsKmsClient({ region: region!, credentials: credentials!, ...(settings.kmsEndpoint && { endpoint: settings.kmsEndpoint }) }),
  });
}

async function openSevSnp(settings: KeyProviderSettings, env: NodeJS.ProcessEnv): Promise<KeyProvider> {
  const device = settings.devices?.sevGuest ?? '/dev/sev-guest';
  if (!(await exists(device))) unavailable('sev-snp', `the SEV-SNP guest device ${device} is absent: this is not an SEV-SNP guest`);
  const helper = env.NAUTILUS_SNP_HELPER;
  if (!helper) {
    unavailable('sev-snp', `SNP_GET_DERIVED_KEY is an ioctl on ${device} that plain Node.js cannot issue; set NAUTILUS_SNP_HELPER to the helper executable (32-byte request on stdin, 64-byte response on stdout)`);
  }
  return createSevSnpKeyProvider({ dataDir: settings.dataDir, deriveKey: (request) => callDeviceHelper(helper!, request, device) });
}

async function openTdx(settings: KeyProviderSettings): Promise<KeyProvider> {
  const tsmRoot = settings.devices?.tsmRoot ?? TSM_REPORT_ROOT;
  const provider = (await exists(tsmRoot)) ? await readTsmProvider(tsmRoot).catch(() => undefined) : undefined;
  if (provider !== 'tdx_guest') {
    unavailable('tdx', provider ? `configfs-tsm at ${tsmRoot} reports ${provider}, not tdx_guest: this is not a TDX guest` : `no configfs-tsm report interface at ${tsmRoot}: this is not a TDX guest (or Linux is older than 6.7)`);
  }
  if (!settings.keyReleaseUrl) unavailable('tdx', 'a TD has no sealing key; needs --key-release-url, the service that releases the data key against a quote');
  let url: URL;
  try {
    url = new URL(settings.keyReleaseUrl!);
  } catch {
    return unavailable('tdx', `--key-release-url ${JSON.stringify(settings.keyReleaseUrl)} is not a URL`);
  }
  const ca = settings.keyReleaseCaFile ? await readFile(settings.keyReleaseCaFile, 'utf8') : undefined;
  return createTdxKeyProvider({
    async getQuote(reportData) {
      const report = await requestTsmReport(reportData, tsmRoot);
      if (report.provider !== 'tdx_guest') throw new Error(`tdx: configfs-tsm answered with a ${report.provider} report`);
      return report.outblob;
    },
    async releaseKey({ quote, publicKey }) {
      const body = JSON.stringify({ quote: quote.toString('base64'), publicKey: publicKey.toString('base64') });
      const answer = await postJson(url, { 'content-type': 'application/json' }, body, { what: 'key release', ...(ca && { ca }) });
      if (typeof answer.servicePublicKey !== 'string' || typeof answer.sealedKey !== 'string') {
        throw new Error(`key release at ${url.origin}: the answer lacks servicePublicKey and sealedKey`);
      }
      const response: TdxKeyReleaseResponse = { servicePublicKey: Buffer.from(answer.servicePublicKey, 'base64'), sealedKey: Buffer.from(answer.sealedKey, 'base64') };
      return response;
    },
  });
}

/** A provider that asks its source once per process: KMS and key release are round trips. */
export function memoizedKeyProvider(provider: KeyProvider): KeyProvider {
  let key: Promise<Buffer> | undefined;
  return {
    name: provider.name,
    dataKey() {
      key ??= provider.dataKey().catch((error: unknown) => {
        key = undefined;
        throw error;
      });
      return key;
    },
  };
}
