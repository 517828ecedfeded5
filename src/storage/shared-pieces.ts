/**
 * Pieces shared between stored versions: the resident bytes of a version whose large repeated
 * members are byte-identical to another version's point at one shared copy. The members shared
 * are those that repeat across a template's objects and a version's successors:
 * - managedFields' `fieldsV1` sets (a pod's creating manager's set through its status updates,
 *   and across the pods of one ReplicaSet: they differ only in what admission added, which no
 *   manager owns);
 * - `containers` and `initContainers` lists (every pod of one template);
 * - `labels` and `ownerReferences` (every pod of one ReplicaSet), `tolerations` (admission's
 *   defaults), `projected` volume sources (the token volume: only the volume's name differs), and
 *   the kubelet's `f:conditions` field set (its status set names the pod's IP, so it is never
 *   shared whole, but its conditions are the same in every pod).
 * A member whose value is not shared is searched for shared members inside it.
 * Sharing is a byte-level deduplication: a version's JSON reads back exactly as it was
 * serialized, whatever is shared or wherever the markers happen to be found.
 *
 * A piece is shared from its second occurrence among recent writes (a bounded record of digests
 * seen once); a shared copy lives as long as some version holds it.
 */
import { hash } from 'node:crypto';
import { endOfContainer } from './json-scan.js';

/**
 * A shared member's name and the byte its value opens with, matched in one pass over the JSON
 * read as latin1 (one character per byte, so a match's index is its byte offset; the names are
 * ASCII, which no byte of a multi-byte UTF-8 character is). Inside a JSON string every quote is
 * escaped, so a match is always a member, never text.
 */
const SHARED_MEMBER = /"(?:fieldsV1|labels|projected|f:conditions)":\{|"(?:containers|initContainers|ownerReferences|tolerations)":\[/g;
/**
 * Smaller pieces are not worth a piece of their own: a piece costs its version two layout slots,
 * and the shared copy (a Buffer, ~100 bytes of heap) is paid once for all its holders.
 */
const MIN_SHARED_BYTES = 128;
/** Digests of pieces seen once lately. */
const SEEN_ONCE_LIMIT = 16_384;

/**
 * A version's JSON with shared pieces: `own` holds every byte not shared, in order; `layout`
 * lists [offset in the whole JSON, shared bytes, …] by offset.
 */
export class SharedJson {
  constructor(
    readonly own: Buffer,
    readonly layout: readonly (number | Buffer)[],
    readonly length: number,
  ) {}
}

/** The resident form of one version's JSON: its bytes, or its bytes with shared pieces. */
export type ResidentJson = Buffer | SharedJson;

const sharedByDigest = new Map<string, WeakRef<Buffer>>();
const whenCollected = new FinalizationRegistry<string>((digest) => {
  if (sharedByDigest.get(digest)?.deref() === undefined) sharedByDigest.delete(digest);
});
const seenOnce = new Set<string>();

/** `json` with each shared member another recent version has byte for byte replaced by the shared copy. */
export function sharePieces(json: Buffer): ResidentJson {
  const layout: (number | Buffer)[] = [];
  let sharedBytes = 0;
  let end = 0;
  for (const [start, valueEnd] of sharedMemberValues(json)) {
    // Inside a piece already shared; a member not shared leaves the members inside it to be tried.
    if (start < end || valueEnd - start < MIN_SHARED_BYTES) continue;
    const piece = sharedCopy(json.subarray(start, valueEnd));
    if (!piece) continue;
    end = valueEnd;
    layout.push(start, piece);
    sharedBytes += piece.length;
  }
  if (layout.length === 0) return json;
  const own = Buffer.allocUnsafeSlow(json.length - sharedBytes);
  let from = 0;
  let written = 0;
  for (let i = 0; i < layout.length; i += 2) {
    const start = layout[i] as number;
    written += json.copy(own, written, from, start);
    from = start + (layout[i + 1] as Buffer).length;
  }
  json.copy(own, written, from);
  return new SharedJson(own, layout, json.length);
}

/** [start, end) of every shared member's value in `json`, by start. */
function sharedMemberValues(json: Buffer): [number, number][] {
  const values: [number, number][] = [];
  const text = json.toString('latin1');
  SHARED_MEMBER.lastIndex = 0;
  for (let match = SHARED_MEMBER.exec(text); match; match = SHARED_MEMBER.exec(text)) {
    const start = SHARED_MEMBER.lastIndex - 1;
    const end = endOfContainer(json, start);
    if (end < 0) break;
    values.push([start, end]);
  }
  return values;
}

/** The shared copy of `bytes`, made on their second sighting; undefined while they are seen once. */
function sharedCopy(bytes: Buffer): Buffer | undefined {
  const digest = hash('sha1', bytes, 'base64');
  const existing = sharedByDigest.get(digest)?.deref();
  if (existing) return existing.equals(bytes) ? existing : undefined;
  if (!seenOnce.delete(digest)) {
    seenOnce.add(digest);
    if (seenOnce.size > SEEN_ONCE_LIMIT) seenOnce.delete(seenOnce.values().next().value!);
    return undefined;
  }
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  sharedByDigest.set(digest, new WeakRef(copy));
  whenCollected.register(copy, digest);
  return copy;
}

/** The whole JSON (assembled when pieces are shared: a transient copy). */
export function wholeJson(resident: ResidentJson): Buffer {
  return resident instanceof SharedJson ? Buffer.concat(jsonSlices(resident, 0, resident.length), resident.length) : resident;
}

/** Views of the bytes in [from, to), in order; a shared piece wholly inside is handed out as itself. */
export function jsonSlices(resident: ResidentJson, from: number, to: number): Buffer[] {
  if (!(resident instanceof SharedJson)) return [resident.subarray(from, to)];
  const slices: Buffer[] = [];
  const { own, layout } = resident;
  // Walk the whole JSON: own bytes up to each shared piece, the piece, and so on; `at` is the
  // offset in the whole JSON, `ownAt` the matching offset in `own`.
  let at = 0;
  let ownAt = 0;
  for (let i = 0; i < layout.length && at < to; i += 2) {
    const start = layout[i] as number;
    const piece = layout[i + 1] as Buffer;
    if (start > from && start > at) slices.push(own.subarray(ownAt + Math.max(0, from - at), ownAt + Math.min(start, to) - at));
    ownAt += start - at;
    const pieceEnd = start + piece.length;
    if (pieceEnd > from && start < to) slices.push(from <= start && pieceEnd <= to ? piece : piece.subarray(Math.max(0, from - start), Math.min(piece.length, to - start)));
    at = pieceEnd;
  }
  if (at < to) slices.push(own.subarray(ownAt + Math.max(0, from - at), ownAt + to - at));
  return slices;
}

/** The byte at `offset`. */
export function jsonByteAt(resident: ResidentJson, offset: number): number | undefined {
  if (!(resident instanceof SharedJson)) return resident[offset];
  if (offset < 0 || offset >= resident.length) return undefined;
  const { own, layout } = resident;
  let sharedBefore = 0;
  for (let i = 0; i < layout.length; i += 2) {
    const start = layout[i] as number;
    if (offset < start) break;
    const piece = layout[i + 1] as Buffer;
    if (offset < start + piece.length) return piece[offset - start];
    sharedBefore += piece.length;
  }
  return own[offset - sharedBefore];
}

/** The bytes in [from, to) as text. */
export function jsonText(resident: ResidentJson, from: number, to: number): string {
  if (!(resident instanceof SharedJson)) return resident.toString('utf8', from, to);
  return Buffer.concat(jsonSlices(resident, from, to)).toString('utf8');
}
