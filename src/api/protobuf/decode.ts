/**
 * Decodes Kubernetes protobuf request bodies (what client-go typed clients, hence kubectl create / auth can-i /
 * drain / create token, send) into the object's JSON form, so the rest of the pipeline only ever sees JSON.
 *
 * Body layout: the 4-byte magic "k8s\0", then a runtime.Unknown envelope naming the object's apiVersion and kind
 * and carrying the object's own protobuf encoding in `raw`.
 */
import { ApiError, errors } from '../status.js';
import { kinds, messages, type FieldSpec, type MapValueSpec } from './schema.js';
import { ProtoReader, WireType, malformed, toInt32, toInt64, type Varint } from './wire.js';
import { rawJson, specialDecoders } from './wellknown.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

/** Deep enough for any built-in kind (a CronJob's pod volumes sit about 12 levels down). */
const MAX_DEPTH = 64;

const DELETE_OPTIONS = 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions';

export function isKubernetesProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0].trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}

export function decodeKubernetesProtobuf(body: Buffer): Record<string, unknown> {
  return decodeEnvelope(body, 0);
}

/** Finds the message for an apiVersion/kind; DeleteOptions is accepted under every group version, as upstream. */
export function messageFor(apiVersion: string, kind: string): string | undefined {
  if (kind === 'DeleteOptions') return DELETE_OPTIONS;
  return Object.hasOwn(kinds, apiVersion) && Object.hasOwn(kinds[apiVersion], kind) ? kinds[apiVersion][kind] : undefined;
}

function decodeEnvelope(body: Buffer, depth: number): Record<string, unknown> {
  if (body.length < PROTOBUF_MAGIC.length || !body.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)) {
    throw errors.badRequest('protobuf body does not start with the Kubernetes magic prefix "k8s\\x00"');
  }
  const envelope = readUnknown(new ProtoReader(body, PROTOBUF_MAGIC.length));
  if (envelope.contentEncoding) {
    throw errors.badRequest(`protobuf body has unsupported contentEncoding ${JSON.stringify(envelope.contentEncoding)}`);
  }
  if (!envelope.kind) throw errors.badRequest('protobuf body does not name the kind of its object');
  const type = messageFor(envelope.apiVersion, envelope.kind);
  if (!type) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `protobuf is not supported for apiVersion ${JSON.stringify(envelope.apiVersion)}, kind ${JSON.stringify(envelope.kind)}; send application/json`,
    );
  }
  const object = decodeMessage(new ProtoReader(envelope.raw), type, depth + 1);
  return { kind: envelope.kind, apiVersion: envelope.apiVersion, ...object };
}

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Buffer;
  contentEncoding: string;
}

/** runtime.Unknown: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType. */
function readUnknown(reader: ProtoReader): Envelope {
  const envelope: Envelope = { apiVersion: '', kind: '', raw: Buffer.alloc(0), contentEncoding: '' };
  while (!reader.done) {
    const at = reader.offset();
    const { field, wireType } = reader.tag();
    if (field > 4) {
      reader.skip(wireType);
      continue;
    }
    if (wireType !== WireType.lengthDelimited) throw malformed(at, `envelope field ${field} has wire type ${wireType}`);
    if (field === 1) {
      const typeMeta = reader.sub();
      while (!typeMeta.done) {
        const inner = typeMeta.tag();
        if ((inner.field === 1 || inner.field === 2) && inner.wireType === WireType.lengthDelimited) {
          envelope[inner.field === 1 ? 'apiVersion' : 'kind'] = typeMeta.bytes().toString('utf8');
        } else typeMeta.skip(inner.wireType);
      }
    } else if (field === 2) envelope.raw = reader.bytes();
    else if (field === 3) envelope.contentEncoding = reader.bytes().toString('utf8');
    else reader.skip(wireType);
  }
  return envelope;
}

function decodeMessage(reader: ProtoReader, type: string, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw errors.badRequest(`protobuf body nests deeper than ${MAX_DEPTH} levels`);
  const fields = messages[type];
  const object: Record<string, unknown> = {};
  while (!reader.done) {
    const at = reader.offset();
    const { field, wireType } = reader.tag();
    const spec = Object.hasOwn(fields, field) ? fields[field] : undefined;
    // Fields newer than our schema are skipped, as protobuf readers do.
    if (!spec) reader.skip(wireType);
    else if (spec.kind === 'map') readMapEntry(reader, spec, object, depth, at, wireType);
    else if (spec.repeated && wireType === WireType.lengthDelimited && isVarintKind(spec.kind)) {
      const packed = reader.sub();
      while (!packed.done) appendValue(object, spec, scalarFromVarint(spec.kind, packed.varint()));
    } else {
      expectWireType(spec, wireType, at, type);
      const value = readValue(reader, spec.kind, spec.type, depth);
      if (spec.inline) Object.assign(object, value);
      else if (spec.repeated) appendValue(object, spec, value);
      else if (value !== undefined && !(spec.omitZero && isZero(value))) object[spec.name] = value;
    }
  }
  return object;
}

function readValue(reader: ProtoReader, kind: FieldSpec['kind'] | MapValueSpec['kind'], type: string | undefined, depth: number): unknown {
  switch (kind) {
    case 'string':
      return reader.bytes().toString('utf8');
    case 'bytes':
      return reader.bytes().toString('base64');
    case 'int32':
    case 'int64':
    case 'bool':
      return scalarFromVarint(kind, reader.varint());
    case 'message':
      return decodeNested(reader.sub(), type ?? '', depth + 1);
    default:
      throw errors.internal(`protobuf schema has a map inside a map value (${type})`);
  }
}

function decodeNested(reader: ProtoReader, type: string, depth: number): unknown {
  const special = Object.hasOwn(specialDecoders, type) ? specialDecoders[type] : undefined;
  if (special) return special(reader, (raw) => decodeEmbedded(raw, depth));
  if (!Object.hasOwn(messages, type)) throw errors.internal(`protobuf schema lacks message ${type}`);
  return decodeMessage(reader, type, depth);
}

function decodeEmbedded(raw: Buffer, depth: number): unknown {
  return raw.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)
    ? decodeEnvelope(raw, depth)
    : rawJson(raw, 'an embedded object (RawExtension)');
}

/** A map field arrives as repeated entry messages {1: key, 2: value}. */
function readMapEntry(reader: ProtoReader, spec: FieldSpec, object: Record<string, unknown>, depth: number, at: number, wireType: number): void {
  if (wireType !== WireType.lengthDelimited) throw malformed(at, `map field ${spec.name} has wire type ${wireType}`);
  const valueSpec = spec.mapValue as MapValueSpec;
  const entry = reader.sub();
  let key = '';
  let value: unknown;
  while (!entry.done) {
    const entryAt = entry.offset();
    const tag = entry.tag();
    if (tag.field === 1 && tag.wireType === WireType.lengthDelimited) key = entry.bytes().toString('utf8');
    else if (tag.field === 2) {
      const expected = isVarintKind(valueSpec.kind) ? WireType.varint : WireType.lengthDelimited;
      if (tag.wireType !== expected) throw malformed(entryAt, `value of map ${spec.name} has wire type ${tag.wireType}`);
      value = readValue(entry, valueSpec.kind, valueSpec.type, depth);
    } else if (tag.field === 1) throw malformed(entryAt, `key of map ${spec.name} has wire type ${tag.wireType}`);
    else entry.skip(tag.wireType);
  }
  const map = (object[spec.name] ??= {}) as Record<string, unknown>;
  // defineProperty keeps a key such as "__proto__" an ordinary entry.
  Object.defineProperty(map, key, { value: value ?? zeroOf(valueSpec, depth), enumerable: true, writable: true, configurable: true });
}

function zeroOf(spec: MapValueSpec, depth: number): unknown {
  if (spec.kind === 'message') return decodeNested(new ProtoReader(Buffer.alloc(0)), spec.type ?? '', depth + 1);
  return spec.kind === 'bool' ? false : spec.kind === 'int32' || spec.kind === 'int64' ? 0 : '';
}

function appendValue(object: Record<string, unknown>, spec: FieldSpec, value: unknown): void {
  ((object[spec.name] ??= []) as unknown[]).push(value);
}

function isVarintKind(kind: string): kind is 'int32' | 'int64' | 'bool' {
  return kind === 'int32' || kind === 'int64' || kind === 'bool';
}

function scalarFromVarint(kind: 'int32' | 'int64' | 'bool', value: Varint): number | boolean {
  if (kind === 'bool') return value !== 0 && value !== 0n;
  return kind === 'int32' ? toInt32(value) : toInt64(value);
}

function expectWireType(spec: FieldSpec, wireType: number, at: number, type: string): void {
  const expected = isVarintKind(spec.kind) ? WireType.varint : WireType.lengthDelimited;
  if (wireType !== expected) {
    throw malformed(at, `field ${spec.name || spec.type} of ${type} has wire type ${wireType}, expected ${expected}`);
  }
}

function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}
