import type crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SnapshotEntries, SnapshotEntry } from '../durable-log.js';
import { freshSalt, SALT_BYTES, SEALED_OVERHEAD, SealingKey } from './aead.js';
import { readU64, writeU64 } from './bytes.js';
import {
  CHECKPOINT_BYTES,
  checkpointSignatureValid,
  decodeCheckpoint,
  encodeCheckpoint,
  type SignedCheckpoint,
} from './checkpoint.js';
import { IntegrityError } from './errors.js';
import { fsyncDir, ShortWriteError, writeTemp } from './files.js';

/**
 * A snapshot file:
 *   "NSNAP001" | salt | chunk* | trailer chunk
 *   chunk = u32 sealed length | u8 kind | AES-GCM(counter = chunk index, AAD = magic, index, kind, length)
 * Entry chunks hold about CHUNK_BYTES of entries each, so neither writer nor reader needs the whole
 * state in one buffer. The trailer (signed checkpoint, entry and chunk counts) must be the last
 * chunk and end the file, so a truncated or extended snapshot is detected.
 */
export const SNAPSHOT_SUFFIX = '.snap';
const MAGIC = Buffer.from('NSNAP001');
const FILE_HEADER_BYTES = MAGIC.length + SALT_BYTES;
const CHUNK_HEADER_BYTES = 5;
const CHUNK_BYTES = 1024 * 1024;
const PURPOSE = 'snapshot';

enum ChunkKind {
  Entries = 1,
  Trailer = 2,
}

export interface SnapshotContents {
  checkpoint: SignedCheckpoint;
  entries: SnapshotEntry[];
}

export async function writeSnapshotFile(
  file: string,
  dataKey: Buffer,
  checkpoint: SignedCheckpoint,
  entries: SnapshotEntries,
): Promise<void> {
  const temp = `${file}.tmp`;
  await writeTemp(temp, async (handle) => {
    let position = 0;
    for (const bytes of snapshotBytes(dataKey, checkpoint, entries)) {
      const { bytesWritten } = await handle.write(bytes, 0, bytes.length, position);
      if (bytesWritten !== bytes.length) throw new ShortWriteError(bytesWritten, bytes.length);
      position += bytes.length;
    }
  });
  await fs.rename(temp, file);
  await fsyncDir(path.dirname(file));
}

/** The bytes of a snapshot, sealed chunk by chunk (~1 MiB each), for a file or a replicated log. */
export function* snapshotBytes(dataKey: Buffer, checkpoint: SignedCheckpoint, entries: SnapshotEntries): Generator<Buffer> {
  const salt = freshSalt();
  const key = new SealingKey(dataKey, salt, PURPOSE);
  yield Buffer.concat([MAGIC, salt]);
  let chunkIndex = 0;
  for (const plaintext of entryChunks(entries)) yield sealChunk(key, chunkIndex++, ChunkKind.Entries, plaintext);
  const trailer = Buffer.alloc(CHECKPOINT_BYTES + 16);
  encodeCheckpoint(checkpoint).copy(trailer, 0);
  writeU64(trailer, CHECKPOINT_BYTES, entries.length);
  writeU64(trailer, CHECKPOINT_BYTES + 8, chunkIndex);
  yield sealChunk(key, chunkIndex, ChunkKind.Trailer, trailer);
}

/** Reads and fully verifies a snapshot; any defect is an IntegrityError naming the file and chunk. */
export async function readSnapshotFile(
  file: string,
  dataKey: Buffer,
  publicKey: crypto.KeyObject,
): Promise<SnapshotContents> {
  const handle = await fs.open(file, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    const read = async (position: number, length: number): Promise<Buffer> => {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buf, 0, length, position);
      return bytesRead === length ? buf : buf.subarray(0, bytesRead);
    };
    return await parseSnapshot(path.basename(file), fileSize, read, dataKey, publicKey);
  } finally {
    await handle.close();
  }
}

/** Verifies and reads a snapshot held in memory (e.g. gathered from a replicated log). */
export function readSnapshotBytes(name: string, bytes: Buffer, dataKey: Buffer, publicKey: crypto.KeyObject): Promise<SnapshotContents> {
  return parseSnapshot(name, bytes.length, async (position, length) => bytes.subarray(position, position + length), dataKey, publicKey);
}

async function parseSnapshot(
  name: string,
  fileSize: number,
  readAt: (position: number, length: number) => Promise<Buffer>,
  dataKey: Buffer,
  publicKey: crypto.KeyObject,
): Promise<SnapshotContents> {
  const fail = (what: string): never => {
    throw new IntegrityError(`snapshot ${name}: ${what}`);
  };
  const read = async (position: number, length: number): Promise<Buffer> => {
    const buf = await readAt(position, length);
    if (buf.length !== length) fail(`truncated at byte ${position + buf.length} (file has ${fileSize} bytes)`);
    return buf;
  };
  {
    const header = await read(0, FILE_HEADER_BYTES);
    if (!header.subarray(0, MAGIC.length).equals(MAGIC)) fail('not a Nautilus snapshot (bad magic)');
    const key = new SealingKey(dataKey, header.subarray(MAGIC.length), PURPOSE);
    const entries: SnapshotEntry[] = [];
    let position = FILE_HEADER_BYTES;
    for (let chunkIndex = 0; ; chunkIndex++) {
      if (position >= fileSize) fail(`truncated: ends after ${chunkIndex} chunks without its trailer`);
      const chunkHeader = await read(position, CHUNK_HEADER_BYTES);
      const sealedLength = chunkHeader.readUInt32BE(0);
      const kind = chunkHeader.readUInt8(4);
      if (sealedLength > CHUNK_BYTES * 64 + SEALED_OVERHEAD) fail(`chunk ${chunkIndex} has an impossible length ${sealedLength}`);
      const sealed = await read(position + CHUNK_HEADER_BYTES, sealedLength);
      const plaintext = key.open(chunkIndex, chunkAad(chunkIndex, kind, sealedLength), sealed);
      if (!plaintext) fail(`chunk ${chunkIndex} at byte ${position} fails authentication (tampered, or sealed with another data key)`);
      position += CHUNK_HEADER_BYTES + sealedLength;
      if (kind === ChunkKind.Entries) {
        if (!decodeEntries(plaintext!, entries)) fail(`chunk ${chunkIndex} holds malformed entries`);
        continue;
      }
      if (kind !== ChunkKind.Trailer) fail(`chunk ${chunkIndex} has unknown kind ${kind}`);
      if (position !== fileSize) fail(`${fileSize - position} unexpected bytes after the trailer`);
      const checkpoint = decodeCheckpoint(plaintext!.subarray(0, CHECKPOINT_BYTES));
      if (!checkpoint || plaintext!.length !== CHECKPOINT_BYTES + 16) fail('malformed trailer');
      if (!checkpointSignatureValid(checkpoint!, publicKey)) fail('checkpoint signature does not verify with the server key');
      if (readU64(plaintext!, CHECKPOINT_BYTES) !== entries.length) fail('entry count in the trailer does not match the entries read');
      if (readU64(plaintext!, CHECKPOINT_BYTES + 8) !== chunkIndex) fail('chunk count in the trailer does not match');
      return { checkpoint: checkpoint!, entries };
    }
  }
}

function sealChunk(key: SealingKey, index: number, kind: ChunkKind, plaintext: Buffer): Buffer {
  const sealedLength = plaintext.length + SEALED_OVERHEAD;
  const chunk = key.seal(index, chunkAad(index, kind, sealedLength), [plaintext], CHUNK_HEADER_BYTES);
  chunk.writeUInt32BE(sealedLength, 0);
  chunk.writeUInt8(kind, 4);
  return chunk;
}

function chunkAad(index: number, kind: number, sealedLength: number): Buffer {
  const aad = Buffer.alloc(MAGIC.length + 8 + 1 + 4);
  MAGIC.copy(aad, 0);
  writeU64(aad, 8, index);
  aad.writeUInt8(kind, 16);
  aad.writeUInt32BE(sealedLength, 17);
  return aad;
}

/** Entry: u16 len + resource | u16 len + key | u64 revision | u32 len + value. */
function* entryChunks(entries: SnapshotEntries): Generator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for (const entry of entries) {
    const resource = Buffer.from(entry.resource, 'utf8');
    const key = Buffer.from(entry.key, 'utf8');
    const head = Buffer.allocUnsafe(2 + resource.length + 2 + key.length + 8 + 4);
    let at = head.writeUInt16BE(resource.length, 0);
    at += resource.copy(head, at);
    at = head.writeUInt16BE(key.length, at);
    at += key.copy(head, at);
    writeU64(head, at, entry.revision);
    const value = entry.value; // read once: the store makes it on reading
    head.writeUInt32BE(value.length, at + 8);
    parts.push(head, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    size += head.length + value.length;
    if (size >= CHUNK_BYTES) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

function decodeEntries(chunk: Buffer, into: SnapshotEntry[]): boolean {
  let at = 0;
  while (at < chunk.length) {
    if (at + 2 > chunk.length) return false;
    const resourceLength = chunk.readUInt16BE(at);
    const keyAt = at + 2 + resourceLength;
    if (keyAt + 2 > chunk.length) return false;
    const keyLength = chunk.readUInt16BE(keyAt);
    const revisionAt = keyAt + 2 + keyLength;
    if (revisionAt + 12 > chunk.length) return false;
    const valueLength = chunk.readUInt32BE(revisionAt + 8);
    const valueAt = revisionAt + 12;
    if (valueAt + valueLength > chunk.length) return false;
    into.push({
      resource: chunk.toString('utf8', at + 2, keyAt),
      key: chunk.toString('utf8', keyAt + 2, revisionAt),
      revision: readU64(chunk, revisionAt),
      value: chunk.subarray(valueAt, valueAt + valueLength),
    });
    at = valueAt + valueLength;
  }
  return true;
}
