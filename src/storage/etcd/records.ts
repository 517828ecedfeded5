/**
 * The values Nautilus keeps in etcd, sealed with the cluster data key by the same code as the
 * local write-ahead log (wal/aead.ts, wal/record.ts): one sealing implementation for both.
 *
 * A log record's value is  u8 format | 16-byte salt | WAL record frame.  The frame's sequence is
 * the Nautilus revision (also the GCM nonce) and its header — authenticated as the AEAD's
 * additional data — carries the hash of the previous record, so records chain exactly as on disk:
 * a record moved to another key, dropped or replayed from elsewhere fails to open or to chain.
 * Every batch is sealed under a key derived from a fresh salt, so a revision sealed again after a
 * refused transaction never reuses a (key, nonce) pair.
 */
import crypto from 'node:crypto';
import type { Mutation } from '../durable-log.js';
import { freshSalt, SALT_BYTES, SealingKey } from '../wal/aead.js';
import { checkpointSignatureValid, decodeCheckpoint, encodeCheckpoint, GENESIS_CHAIN_HASH, signCheckpoint, type LogPosition } from '../wal/checkpoint.js';
import { IntegrityError } from '../wal/errors.js';
import { dataKeyCheck } from '../wal/marker.js';
import { decodeMutation, encodeMutation, readRecordHeader, RECORD_HEADER_BYTES, RecordKind, sealRecord, sha256 } from '../wal/record.js';

const RECORD_FORMAT = 1;
const LOG_PURPOSE = 'etcd log';
const LEADER_PURPOSE = 'etcd leader';
const LEADER_AAD = Buffer.from('nautilus leader v1');

export { GENESIS_CHAIN_HASH };

export interface SealedBatch {
  /** The etcd values, one per mutation, in order. */
  values: Buffer[];
  /** Chain hash after each record. */
  hashes: Buffer[];
}

/** Seals consecutive mutations that follow a record whose chain hash is `prevHash`. */
export function sealLogBatch(dataKey: Buffer, mutations: readonly Mutation[], prevHash: Buffer): SealedBatch {
  const salt = freshSalt();
  const key = new SealingKey(dataKey, salt, LOG_PURPOSE);
  const values: Buffer[] = [];
  const hashes: Buffer[] = [];
  let chainHash = prevHash;
  for (const mutation of mutations) {
    const sealed = sealRecord(key, RecordKind.Mutation, mutation.revision, chainHash, encodeMutation(mutation));
    const value = Buffer.allocUnsafe(1 + SALT_BYTES + sealed.frame.length);
    value[0] = RECORD_FORMAT;
    salt.copy(value, 1);
    sealed.frame.copy(value, 1 + SALT_BYTES);
    values.push(value);
    hashes.push(sealed.hash);
    chainHash = sealed.hash;
  }
  return { values, hashes };
}

/**
 * Opens the record stored for `revision`, which must follow the record whose chain hash is
 * `prevHash`; anything else is an IntegrityError naming the revision.
 */
export function openLogRecord(dataKey: Buffer, revision: number, value: Buffer, prevHash: Buffer): { mutation: Mutation; chainHash: Buffer } {
  const fail = (what: string): never => {
    throw new IntegrityError(`etcd log record ${revision}: ${what}`);
  };
  if (value.length < 1 + SALT_BYTES + RECORD_HEADER_BYTES || value[0] !== RECORD_FORMAT) fail('not a Nautilus log record');
  const frame = value.subarray(1 + SALT_BYTES);
  const header = readRecordHeader(frame, 0);
  if (header.kind !== RecordKind.Mutation || header.sealedLength !== frame.length - RECORD_HEADER_BYTES) fail('malformed header');
  if (header.sequence !== revision) fail(`holds revision ${header.sequence}: records were moved`);
  if (!header.prevHash.equals(prevHash)) fail('does not follow the previous record (a record is missing, or the log was spliced)');
  const key = new SealingKey(dataKey, value.subarray(1, 1 + SALT_BYTES), LOG_PURPOSE);
  const plaintext = key.open(revision, frame.subarray(0, RECORD_HEADER_BYTES), frame.subarray(RECORD_HEADER_BYTES));
  if (!plaintext) fail('fails authentication (altered, or sealed with another data key)');
  const mutation = decodeMutation(plaintext!);
  if (!mutation || mutation.revision !== revision) fail('malformed body');
  return { mutation: mutation!, chainHash: sha256(frame) };
}

/** The head value: a checkpoint of the newest record, signed with the key derived from the data key. */
export function encodeHead(position: LogPosition, signingKey: crypto.KeyObject): Buffer {
  return encodeCheckpoint(signCheckpoint(position, signingKey));
}

export function decodeHead(value: Buffer, publicKey: crypto.KeyObject): LogPosition {
  const checkpoint = decodeCheckpoint(value);
  if (!checkpoint || !checkpointSignatureValid(checkpoint, publicKey)) throw new IntegrityError('etcd head: its checkpoint is malformed or not signed by this cluster');
  return { revision: checkpoint.revision, sequence: checkpoint.sequence, chainHash: checkpoint.chainHash };
}

/** Who leads: sealed, because a URL is the host's business only as far as it routes it. */
export interface LeaderRecord {
  /** Random per process start. */
  id: string;
  /** The replica's API server URL, where followers forward writes. */
  url: string;
}

export function sealLeader(dataKey: Buffer, leader: LeaderRecord): Buffer {
  const salt = freshSalt();
  const sealed = new SealingKey(dataKey, salt, LEADER_PURPOSE).seal(0, LEADER_AAD, [Buffer.from(JSON.stringify(leader))]);
  return Buffer.concat([salt, sealed]);
}

export function openLeader(dataKey: Buffer, value: Buffer): LeaderRecord | undefined {
  if (value.length <= SALT_BYTES) return undefined;
  const plaintext = new SealingKey(dataKey, value.subarray(0, SALT_BYTES), LEADER_PURPOSE).open(0, LEADER_AAD, value.subarray(SALT_BYTES));
  if (!plaintext) return undefined;
  const parsed = JSON.parse(plaintext.toString('utf8')) as LeaderRecord;
  return typeof parsed.id === 'string' && typeof parsed.url === 'string' ? parsed : undefined;
}

/** What <prefix>keycheck holds: tells a replica with another data key that it reads nothing here. */
export function keyCheckValue(dataKey: Buffer): Buffer {
  return dataKeyCheck(dataKey);
}

/** Snapshot manifest: which chunk set is current; counts only, nothing secret. */
export interface SnapshotManifest {
  id: string;
  chunks: number;
  revision: number;
}

export function encodeManifest(manifest: SnapshotManifest): Buffer {
  return Buffer.from(JSON.stringify(manifest));
}

export function decodeManifest(value: Buffer): SnapshotManifest {
  let parsed: SnapshotManifest;
  try {
    parsed = JSON.parse(value.toString('utf8')) as SnapshotManifest;
  } catch {
    throw new IntegrityError('etcd snapshot manifest is malformed');
  }
  if (typeof parsed.id !== 'string' || !/^[0-9a-f]{16}$/.test(parsed.id) || !Number.isInteger(parsed.chunks) || !Number.isInteger(parsed.revision)) {
    throw new IntegrityError('etcd snapshot manifest is malformed');
  }
  return parsed;
}
