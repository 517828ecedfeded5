/**
 * Where the replicated log lives in etcd. Every key is fixed or numbered, never derived from an
 * object: the host running etcd sees how many writes there were and how large, nothing else.
 *
 *   <prefix>keycheck              HMAC of a constant under the data key: is this the cluster's key?
 *   <prefix>leader                the elected replica (sealed id and URL), attached to its lease
 *   <prefix>head                  signed checkpoint of the newest record; its mod revision fences writers
 *   <prefix>log/<16 hex digits>   one sealed mutation per Nautilus revision
 *   <prefix>snapshot              which snapshot is current (id and chunk count)
 *   <prefix>snapshot/<id>/<8 hex> its sealed chunks, in the snapshot file format
 */
export class EtcdLayout {
  readonly keycheck: Buffer;
  readonly leader: Buffer;
  readonly head: Buffer;
  readonly snapshot: Buffer;
  private readonly logPrefix: string;

  constructor(readonly prefix: string) {
    if (!prefix) throw new Error('etcd: the key prefix must not be empty');
    this.keycheck = Buffer.from(`${prefix}keycheck`);
    this.leader = Buffer.from(`${prefix}leader`);
    this.head = Buffer.from(`${prefix}head`);
    this.snapshot = Buffer.from(`${prefix}snapshot`);
    this.logPrefix = `${prefix}log/`;
  }

  /** [key, range_end) of everything Nautilus keeps under the prefix. */
  get all(): [Buffer, Buffer] {
    const key = Buffer.from(this.prefix);
    return [key, prefixEnd(key)];
  }

  log(revision: number): Buffer {
    return Buffer.from(this.logPrefix + revision.toString(16).padStart(16, '0'));
  }

  /** [key, range_end) of the log records with revision >= `from` (and < `until`, when given). */
  logRange(from: number, until?: number): [Buffer, Buffer] {
    return [this.log(from), until === undefined ? prefixEnd(Buffer.from(this.logPrefix)) : this.log(until)];
  }

  /** The revision a log key names, or undefined when the key is not a log record's. */
  revisionOfLogKey(key: Buffer): number | undefined {
    const text = key.toString('latin1');
    if (!text.startsWith(this.logPrefix)) return undefined;
    const digits = text.slice(this.logPrefix.length);
    return /^[0-9a-f]{16}$/.test(digits) ? parseInt(digits, 16) : undefined;
  }

  snapshotChunk(id: string, index: number): Buffer {
    return Buffer.from(`${this.prefix}snapshot/${id}/${index.toString(16).padStart(8, '0')}`);
  }

  /** [key, range_end) of one snapshot's chunks. */
  snapshotChunks(id: string): [Buffer, Buffer] {
    const key = Buffer.from(`${this.prefix}snapshot/${id}/`);
    return [key, prefixEnd(key)];
  }

  /** [key, range_end) of every snapshot's chunks. */
  get allSnapshotChunks(): [Buffer, Buffer] {
    const key = Buffer.from(`${this.prefix}snapshot/`);
    return [key, prefixEnd(key)];
  }
}

/** The smallest key after every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
