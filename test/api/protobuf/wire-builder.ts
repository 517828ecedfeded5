/**
 * Builds protobuf bytes by hand for tests, straight from the wire-format rules, so that expectations do not
 * come from the code under test.
 */

export function varint(value: number | bigint): Buffer {
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return Buffer.from(bytes);
}

/** A varint field (wire type 0). */
export function num(field: number, value: number | bigint): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)]);
}

/** A length-delimited field (wire type 2) holding a string, bytes or concatenated sub-fields. */
export function len(field: number, ...parts: (Buffer | string)[]): Buffer {
  const payload = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
  return Buffer.concat([varint(field * 8 + 2), varint(payload.length), payload]);
}

/** A whole Kubernetes protobuf body: magic, then runtime.Unknown {typeMeta {apiVersion, kind}, raw}. */
export function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), len(1, len(1, apiVersion), len(2, kind)), len(2, raw)]);
}
