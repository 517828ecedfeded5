/**
 * apimachinery types whose JSON form is not their protobuf field layout (they have custom JSON marshalling
 * upstream): times, durations, quantities, int-or-string, raw JSON carriers and string-list wrappers.
 * Each decoder reads the message body and returns its JSON value, or undefined when the value means "unset";
 * each encoder writes a JSON value as the message body.
 */
import { errors } from '../status.js';
import { ProtoReader, ProtoWriter, WireType, malformed, toInt32, toInt64 } from './wire.js';

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/** Seconds since the Unix epoch of Go's zero time.Time (0001-01-01T00:00:00Z), which JSON renders as null. */
const GO_ZERO_TIME_SECONDS = -62135596800;

type SpecialDecoder = (reader: ProtoReader, embedded: (raw: Buffer) => unknown) => unknown;

/** Reads the fields of a small message into number → last value, checking wire types. */
function readFields(reader: ProtoReader, expected: Record<number, number>): Map<number, unknown> {
  const values = new Map<number, unknown>();
  while (!reader.done) {
    const at = reader.offset();
    const { field, wireType } = reader.tag();
    const want = expected[field];
    if (want === undefined) {
      reader.skip(wireType);
      continue;
    }
    if (wireType !== want) throw malformed(at, `field ${field} has wire type ${wireType}, expected ${want}`);
    values.set(field, wireType === WireType.varint ? reader.varint() : reader.bytes());
  }
  return values;
}

function timestamp(reader: ProtoReader): { seconds: number; nanos: number } | undefined {
  // Upstream marshals the zero time as an empty message.
  if (reader.done) return undefined;
  const fields = readFields(reader, { 1: WireType.varint, 2: WireType.varint });
  const seconds = toInt64((fields.get(1) as number | bigint | undefined) ?? 0);
  const nanos = toInt32((fields.get(2) as number | bigint | undefined) ?? 0);
  if (seconds === GO_ZERO_TIME_SECONDS && nanos === 0) return undefined;
  if (nanos < 0 || nanos > 999_999_999) throw errors.badRequest(`timestamp nanos out of range: ${nanos}`);
  // Go refuses to marshal years outside 0000-9999 as RFC 3339.
  if (seconds < -62167219200 || seconds > 253402300799) throw errors.badRequest(`timestamp out of range: ${seconds}s`);
  return { seconds, nanos };
}

function rfc3339(seconds: number, fraction: string): string {
  const iso = new Date(seconds * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 19)}${fraction}Z`;
}

const HOURS_AND_MINUTES = [
  ['h', 3_600_000_000_000n],
  ['m', 60_000_000_000n],
] as const;

/** Go's time.Duration.String(): "1h0m0s", "1m30s", "1.5s", "250ms", "0s". */
export function goDuration(nanoseconds: bigint): string {
  if (nanoseconds === 0n) return '0s';
  const sign = nanoseconds < 0n ? '-' : '';
  let rest = nanoseconds < 0n ? -nanoseconds : nanoseconds;
  if (rest < 1_000_000_000n) {
    for (const [unit, size] of [['ms', 1_000_000n], ['µs', 1_000n]] as const) {
      if (rest >= size) return sign + decimal(rest, size) + unit;
    }
    return `${sign}${rest}ns`;
  }
  let text = '';
  for (const [unit, size] of HOURS_AND_MINUTES) {
    const whole = rest / size;
    if (whole > 0n || text) text += `${whole}${unit}`;
    rest %= size;
  }
  return sign + text + decimal(rest, 1_000_000_000n) + 's';
}

/** value / unit as a decimal without trailing zeros. */
function decimal(value: bigint, unit: bigint): string {
  const whole = value / unit;
  const fraction = (value % unit).toString().padStart(unit.toString().length - 1, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

function onlyString(reader: ProtoReader): string {
  const value = readFields(reader, { 1: WireType.lengthDelimited }).get(1) as Buffer | undefined;
  return value ? value.toString('utf8') : '';
}

function stringList(reader: ProtoReader): string[] {
  const items: string[] = [];
  while (!reader.done) {
    const at = reader.offset();
    const { field, wireType } = reader.tag();
    if (field !== 1) {
      reader.skip(wireType);
      continue;
    }
    if (wireType !== WireType.lengthDelimited) throw malformed(at, `list item has wire type ${wireType}`);
    items.push(reader.bytes().toString('utf8'));
  }
  return items;
}

export function rawJson(raw: Buffer | undefined, what: string): unknown {
  if (!raw || raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw errors.badRequest(`${what} does not hold valid JSON`);
  }
}

const extraValue: SpecialDecoder = stringList;

export const specialDecoders: Record<string, SpecialDecoder> = {
  [`${META}.Time`]: (reader) => {
    const time = timestamp(reader);
    return time && rfc3339(time.seconds, '');
  },
  [`${META}.MicroTime`]: (reader) => {
    const time = timestamp(reader);
    return time && rfc3339(time.seconds, '.' + String(Math.floor(time.nanos / 1000)).padStart(6, '0'));
  },
  [`${META}.Duration`]: (reader) => {
    const value = readFields(reader, { 1: WireType.varint }).get(1) as number | bigint | undefined;
    return goDuration(BigInt.asIntN(64, BigInt(value ?? 0)));
  },
  [`${META}.FieldsV1`]: (reader) =>
    rawJson(readFields(reader, { 1: WireType.lengthDelimited }).get(1) as Buffer | undefined, 'a FieldsV1 value'),
  [`${META}.Verbs`]: stringList,
  'k8s.io.apimachinery.pkg.api.resource.Quantity': onlyString,
  'k8s.io.apimachinery.pkg.api.resource.QuantityValue': onlyString,
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': (reader) => {
    const fields = readFields(reader, { 1: WireType.varint, 2: WireType.varint, 3: WireType.lengthDelimited });
    const type = toInt64((fields.get(1) as number | bigint | undefined) ?? 0);
    if (type === 1) return ((fields.get(3) as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8');
    if (type !== 0) throw errors.badRequest(`IntOrString has unknown type ${type}`);
    return toInt32((fields.get(2) as number | bigint | undefined) ?? 0);
  },
  // An embedded object travels as JSON, or as a nested protobuf envelope when the client speaks protobuf.
  'k8s.io.apimachinery.pkg.runtime.RawExtension': (reader, embedded) => {
    const raw = readFields(reader, { 1: WireType.lengthDelimited }).get(1) as Buffer | undefined;
    return raw && raw.length > 0 ? embedded(raw) : undefined;
  },
  'k8s.io.api.authentication.v1.ExtraValue': extraValue,
  'k8s.io.api.authorization.v1.ExtraValue': extraValue,
  'k8s.io.api.certificates.v1.ExtraValue': extraValue,
};

/** Thrown when a stored object holds a value its protobuf type cannot carry; the caller may answer JSON instead. */
export function unencodable(what: string, value: unknown): Error {
  return errors.internal(`cannot encode ${what} ${JSON.stringify(value)} as protobuf`);
}

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
};

/** Go's time.ParseDuration, to nanoseconds: "1h30m", "1.5s", "-250ms", "0". */
export function parseGoDuration(text: string): bigint | undefined {
  const match = /^([-+]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(text);
  if (!match) return undefined;
  let total = 0n;
  for (const [, whole, fraction = '', unit] of match[2].matchAll(/(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/g)) {
    const size = DURATION_UNITS[unit];
    total += BigInt(whole || '0') * size + (BigInt(fraction || '0') * size) / 10n ** BigInt(fraction.length);
  }
  return match[1] === '-' ? -total : total;
}

type SpecialEncoder = (value: unknown, writer: ProtoWriter) => void;

function timeEncoder(precise: boolean): SpecialEncoder {
  return (value, writer) => {
    const match = typeof value === 'string' ? /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(value) : null;
    const millis = match ? Date.parse(match[1] + match[3]) : NaN;
    if (!match || Number.isNaN(millis)) throw unencodable('time', value);
    writer.varintField(1, Math.floor(millis / 1000));
    const nanos = precise && match[2] ? Number(match[2].padEnd(9, '0')) : 0;
    if (nanos) writer.varintField(2, nanos);
  };
}

function stringListEncoder(value: unknown, writer: ProtoWriter): void {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw unencodable('string list', value);
  for (const item of value) writer.bytesField(1, Buffer.from(item, 'utf8'));
}

function jsonCarrier(value: unknown, writer: ProtoWriter): void {
  writer.bytesField(1, Buffer.from(JSON.stringify(value), 'utf8'));
}

function quantityEncoder(value: unknown, writer: ProtoWriter): void {
  if (typeof value !== 'string' && typeof value !== 'number') throw unencodable('quantity', value);
  writer.bytesField(1, Buffer.from(String(value), 'utf8'));
}

export const specialEncoders: Record<string, SpecialEncoder> = {
  [`${META}.Time`]: timeEncoder(false),
  [`${META}.MicroTime`]: timeEncoder(true),
  [`${META}.Duration`]: (value, writer) => {
    const nanos = typeof value === 'string' ? parseGoDuration(value) : undefined;
    if (nanos === undefined) throw unencodable('duration', value);
    writer.varintField(1, nanos);
  },
  [`${META}.FieldsV1`]: jsonCarrier,
  [`${META}.Verbs`]: stringListEncoder,
  'k8s.io.apimachinery.pkg.api.resource.Quantity': quantityEncoder,
  'k8s.io.apimachinery.pkg.api.resource.QuantityValue': quantityEncoder,
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': (value, writer) => {
    if (typeof value === 'number' && Number.isInteger(value)) {
      writer.varintField(1, 0);
      writer.varintField(2, value);
    } else if (typeof value === 'string') {
      writer.varintField(1, 1);
      writer.bytesField(3, Buffer.from(value, 'utf8'));
    } else throw unencodable('int-or-string', value);
  },
  'k8s.io.apimachinery.pkg.runtime.RawExtension': jsonCarrier,
  'k8s.io.api.authentication.v1.ExtraValue': stringListEncoder,
  'k8s.io.api.authorization.v1.ExtraValue': stringListEncoder,
  'k8s.io.api.certificates.v1.ExtraValue': stringListEncoder,
};
