import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Linux's vendor-neutral attestation interface (Documentation/ABI/testing/configfs-tsm): create a
 * report directory, write 64 bytes of report data to inblob, read the signed report from outblob.
 * The kernel routes it to the TDX or SEV-SNP guest driver, named in the provider file.
 */
export const TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report';

export interface TsmReport {
  /** e.g. "tdx_guest" or "sev_guest". */
  readonly provider: string;
  /** TDX: a quote; SEV-SNP: an ATTESTATION_REPORT. */
  readonly outblob: Buffer;
  /** SEV-SNP: the host-provided certificate table (VCEK etc.) when the host supplies one. */
  readonly auxblob?: Buffer;
}

export async function readTsmProvider(root = TSM_REPORT_ROOT): Promise<string | undefined> {
  const entry = path.join(root, `nautilus-probe-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(entry);
  } catch {
    return undefined;
  }
  try {
    return (await readFile(path.join(entry, 'provider'), 'utf8')).trim();
  } finally {
    await rmdir(entry).catch(() => undefined);
  }
}

export async function requestTsmReport(reportData: Buffer, root = TSM_REPORT_ROOT): Promise<TsmReport> {
  const entry = path.join(root, `nautilus-${randomBytes(6).toString('hex')}`);
  await mkdir(entry);
  try {
    await writeFile(path.join(entry, 'inblob'), reportData);
    // The generation counter says whether someone else rewrote inblob between our write and read.
    const generation = await readFile(path.join(entry, 'generation'), 'utf8');
    const outblob = await readFile(path.join(entry, 'outblob'));
    const auxblob = await readFile(path.join(entry, 'auxblob')).catch(() => undefined);
    const provider = (await readFile(path.join(entry, 'provider'), 'utf8')).trim();
    if ((await readFile(path.join(entry, 'generation'), 'utf8')) !== generation) {
      throw new Error('configfs-tsm: report entry was modified concurrently; retry');
    }
    return { provider, outblob, ...(auxblob && auxblob.length > 0 && { auxblob }) };
  } finally {
    await rmdir(entry).catch(() => undefined);
  }
}
