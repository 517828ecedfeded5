/**
 * Where the 32-byte data key that seals the log and snapshots comes from. Implementations: a local
 * key file (no TEE), AWS Nitro (KMS with an attested recipient), AMD SEV-SNP (firmware-derived key)
 * and Intel TDX (key release bound to a quote).
 */
export interface KeyProvider {
  name: string;
  dataKey(): Promise<Buffer>;
}

export const DATA_KEY_BYTES = 32;

/**
 * What each provider keeps in the data dir (tdx keeps nothing: its key service releases the key).
 * A backup restores only where the same data key opens: these files carry it to a new data dir.
 */
export const DATA_KEY_FILES = { local: 'data.key', 'nitro-kms': 'data-key.kms', 'sev-snp': 'data-key.snp' } as const;
