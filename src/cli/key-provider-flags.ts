/** The data-key provider flags, shared by `serve` and `snapshot` (both open the sealed log). */
import { KEY_PROVIDER_NAMES, KeyProviderUnavailableError, memoizedKeyProvider, openKeyProvider, type KeyProviderName } from '../storage/keys/select.js';
import type { KeyProvider } from '../storage/keys/key-provider.js';
import type { ProviderName } from '../tee/provider.js';

const GROUP = 'data key';

export const KEY_PROVIDER_FLAGS = {
  'key-provider': { type: 'string', default: 'local', group: GROUP, value: KEY_PROVIDER_NAMES.join('|'), help: 'where the data key sealing the log, snapshots and private keys comes from' },
  'kms-key-id': { type: 'string', group: GROUP, value: 'ARN', help: 'nitro-kms: the KMS key whose policy admits this enclave\'s PCRs' },
  'kms-region': { type: 'string', group: GROUP, value: 'REGION', help: 'nitro-kms: the KMS region (default: AWS_REGION)' },
  'kms-endpoint': { type: 'string', group: GROUP, value: 'URL', help: 'nitro-kms: KMS endpoint, e.g. the vsock proxy (default: https://kms.REGION.amazonaws.com)' },
  'key-release-url': { type: 'string', group: GROUP, value: 'URL', help: 'tdx: the service that releases the data key against a quote' },
  'key-release-ca': { type: 'string', group: GROUP, value: 'FILE', help: 'tdx: CA of the key-release service' },
} as const;

type FlagValues = { [name in keyof typeof KEY_PROVIDER_FLAGS]?: string };

/** The provider the flags select, or a usage message; device checks fail with the reason. */
export async function keyProviderFromFlags(values: FlagValues, dataDir: string, tee: ProviderName): Promise<{ provider: KeyProvider } | { error: string; usage: boolean }> {
  const name = values['key-provider'] ?? 'local';
  if (!(KEY_PROVIDER_NAMES as readonly string[]).includes(name)) {
    return { error: `--key-provider must be one of ${KEY_PROVIDER_NAMES.join(', ')}, got ${JSON.stringify(name)}`, usage: true };
  }
  try {
    const provider = await openKeyProvider(name as KeyProviderName, {
      dataDir,
      tee,
      kmsKeyId: values['kms-key-id'],
      kmsRegion: values['kms-region'],
      kmsEndpoint: values['kms-endpoint'],
      keyReleaseUrl: values['key-release-url'],
      keyReleaseCaFile: values['key-release-ca'],
    });
    return { provider: memoizedKeyProvider(provider) };
  } catch (error) {
    if (error instanceof KeyProviderUnavailableError) return { error: error.message, usage: false };
    throw error;
  }
}
