/**
 * Encodes an object's JSON form as a Kubernetes protobuf body (magic + runtime.Unknown envelope), for clients
 * that accept only application/vnd.kubernetes.protobuf. Fields are written in field-number order and map entries
 * in key order, as upstream does; fields absent from the JSON are left out, which readers take as unset.
 */
import { errors } from '../status.js';
import { PROTOBUF_MAGIC, messageFor } from './decode.js';
import { messages, type FieldSpec, type MapValueSpec } from './schema.js';
import { ProtoWriter } from './wire.js';
import { specialEncoders, unencodable } from './wellknown.js';

const MAX_DEPTH = 64;

const sortedFieldsCache = new Map<string, [number, FieldSpec][]>();

function sortedFields(type: string): [number, FieldSpec][] {
  let fields = sortedFieldsCache.get(type);
  if (!fields) {
    if (!Object.hasOwn(messages, type)) throw errors.internal(`protobuf schema lacks message ${type}`);
    fields = Object.entries(messages[type]).map(([number, spec]): [number, FieldSpec] => [Number(number), spec]).sort((a, b) => a[0] - b[0]);
    sortedFieldsCache.set(type, fields);
  }
  return fields;
}

/** Whether encodeKubernetesProtobuf can write this kind; if not, answer JSON. */
export function canEncodeKubernetesProtobuf(apiVersion: string, kind: string): boolean {
  return messageFor(apiVersion, kind) !== undefined;
}

export function encodeKubernetesProtobuf(object: Record<string, unknown>): Buffer {
  const { apiVersion, kind } = object;
  const type = typeof apiVersion === 'string' && typeof kind === 'string' ? messageFor(apiVersion, kind) : undefined;
  if (!type) throw errors.notAcceptable(`protobuf is not available for apiVersion ${JSON.stringify(apiVersion)}, kind ${JSON.stringify(kind)}`);
  const typeMeta = new ProtoWriter();
  typeMeta.bytesField(1, Buffer.from(apiVersion as string, 'utf8'));
  typeMeta.bytesField(2, Buffer.from(kind as string, 'utf8'));
  const unknown = new ProtoWriter();
  unknown.bytesField(1, typeMeta.finish());
  unknown.bytesField(2, encodeMessage(object, type, 0));
  unknown.bytesField(3, Buffer.alloc(0)); // contentEncoding
  unknown.bytesField(4, Buffer.alloc(0)); // contentType
  return Buffer.concat([PROTOBUF_MAGIC, unknown.finish()]);
}

function encodeMessage(object: unknown, type: string, depth: number): Buffer {
  if (depth > MAX_DEPTH) throw errors.internal(`object nests deeper than ${MAX_DEPTH} levels`);
  const writer = new ProtoWriter();
  const special = Object.hasOwn(specialEncoders, type) ? specialEncoders[type] : undefined;
  if (special) {
    special(object, writer);
    return writer.finish();
  }
  if (!isObject(object)) throw unencodable(type, object);
  for (const [number, spec] of sortedFields(type)) {
    if (spec.inline) {
      writer.bytesField(number, encodeMessage(object, spec.type ?? '', depth + 1));
      continue;
    }
    const value = Object.hasOwn(object, spec.name) ? object[spec.name] : undefined;
    if (value === undefined || value === null) continue;
    if (spec.kind === 'map') writeMap(writer, number, spec, value, depth);
    else if (spec.repeated) {
      if (!Array.isArray(value)) throw unencodable(spec.name, value);
      for (const item of value) writeValue(writer, number, spec.kind, spec.type, item, depth);
    } else writeValue(writer, number, spec.kind, spec.type, value, depth);
  }
  return writer.finish();
}

function writeMap(writer: ProtoWriter, number: number, spec: FieldSpec, value: unknown, depth: number): void {
  if (!isObject(value)) throw unencodable(spec.name, value);
  const valueSpec = spec.mapValue as MapValueSpec;
  for (const key of Object.keys(value).sort()) {
    const entry = new ProtoWriter();
    entry.bytesField(1, Buffer.from(key, 'utf8'));
    writeValue(entry, 2, valueSpec.kind, valueSpec.type, value[key], depth);
    writer.bytesField(number, entry.finish());
  }
}

function writeValue(writer: ProtoWriter, number: number, kind: FieldSpec['kind'], type: string | undefined, value: unknown, depth: number): void {
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') throw unencodable('string', value);
      writer.bytesField(number, Buffer.from(value, 'utf8'));
      return;
    case 'bytes':
      if (typeof value !== 'string') throw unencodable('base64 bytes', value);
      writer.bytesField(number, Buffer.from(value, 'base64'));
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw unencodable('boolean', value);
      writer.varintField(number, value ? 1 : 0);
      return;
    case 'int32':
    case 'int64':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw unencodable('integer', value);
      writer.varintField(number, value);
      return;
    case 'message':
      writer.bytesField(number, encodeMessage(value, type ?? '', depth + 1));
      return;
    default:
      throw errors.internal(`protobuf schema has a map inside a map value (${type})`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
