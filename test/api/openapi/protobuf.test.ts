/**
 * The gnostic protobuf form of /openapi/v2, read back with an independent wire-format reader
 * written here, and compared with the JSON form.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenApi } from '../../../src/api/openapi/index.js';
import { encodeVarint } from '../../../src/api/openapi/protobuf-writer.js';
import { encodeSchema } from '../../../src/api/openapi/v2-protobuf.js';
import { SERVED } from './fixtures.js';

interface Field {
  number: number;
  varint?: number;
  bytes?: Buffer;
}

function readVarint(buffer: Buffer, offset: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = offset; i < buffer.length; i++) {
    const byte = buffer[i]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) return [value, i + 1];
  }
  throw new Error('truncated varint');
}

/** Splits a message into its fields; only the wire types proto3 uses here (0 and 2). */
function fields(message: Buffer): Field[] {
  const result: Field[] = [];
  let offset = 0;
  while (offset < message.length) {
    const [tag, afterTag] = readVarint(message, offset);
    const wireType = tag % 8;
    const number = Math.floor(tag / 8);
    if (wireType === 0) {
      const [varint, next] = readVarint(message, afterTag);
      result.push({ number, varint });
      offset = next;
    } else if (wireType === 2) {
      const [length, start] = readVarint(message, afterTag);
      assert.ok(start + length <= message.length, 'length-delimited field overruns its message');
      result.push({ number, bytes: message.subarray(start, start + length) });
      offset = start + length;
    } else {
      throw new Error(`unexpected wire type ${wireType}`);
    }
  }
  return result;
}

const field = (message: Buffer, number: number) => fields(message).filter((f) => f.number === number);
const text = (message: Buffer, number: number) => field(message, number).map((f) => f.bytes!.toString('utf8'));
const only = (message: Buffer, number: number) => {
  const found = field(message, number);
  assert.equal(found.length, 1, `expected one field ${number}`);
  return found[0]!.bytes!;
};

/** NamedX entries (name = 1, value = 2) as a map. */
function named(entries: Field[]): Map<string, Buffer> {
  return new Map(entries.map((entry) => [text(entry.bytes!, 1)[0]!, only(entry.bytes!, 2)]));
}

/** Vendor extensions of a Schema (field 31) or Operation (field 13), values parsed from their YAML (JSON) text. */
function extensions(message: Buffer, number: number): Record<string, unknown> {
  return Object.fromEntries([...named(field(message, number))].map(([name, any]) => [name, JSON.parse(text(any, 2)[0]!)]));
}

test('varints use the protobuf encoding', () => {
  assert.deepEqual([...encodeVarint(1)], [0x01]);
  assert.deepEqual([...encodeVarint(150)], [0x96, 0x01]);
  assert.deepEqual([...encodeVarint(300)], [0xac, 0x02]);
  assert.deepEqual([...encodeVarint(2 ** 35)], [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  assert.throws(() => encodeVarint(-1), RangeError);
});

test('additionalProperties false is encoded as a present boolean arm', () => {
  const schema = encodeSchema({ type: 'object', additionalProperties: false });
  const item = only(schema, 21);
  assert.deepEqual(fields(item), [{ number: 2, varint: 0 }]);
});

test('the protobuf document carries the same definitions, types, extensions and paths as the JSON one', () => {
  const api = createOpenApi(SERVED);
  const protobuf = api.handle('/openapi/v2', new URLSearchParams(),
    { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' })!.body;
  const jsonDoc = JSON.parse(api.handle('/openapi/v2', new URLSearchParams(), {})!.body.toString('utf8'));

  assert.deepEqual(text(protobuf, 1), ['2.0']);
  const info = only(protobuf, 2);
  assert.deepEqual(text(info, 1), ['Kubernetes']);

  const definitions = named(field(only(protobuf, 9), 1));
  assert.deepEqual([...definitions.keys()], Object.keys(jsonDoc.definitions));

  const pod = definitions.get('io.k8s.api.core.v1.Pod')!;
  assert.deepEqual(text(only(pod, 22), 1), ['object']);
  assert.match(text(pod, 4)[0]!, /collection of containers/);
  assert.deepEqual(extensions(pod, 31)['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);

  const podSpec = definitions.get('io.k8s.api.core.v1.PodSpec')!;
  assert.deepEqual(text(podSpec, 19), ['containers']);
  const properties = named(field(only(podSpec, 25), 1));
  assert.deepEqual([...properties.keys()], Object.keys(jsonDoc.definitions['io.k8s.api.core.v1.PodSpec'].properties));
  const containers = properties.get('containers')!;
  assert.deepEqual(text(only(containers, 22), 1), ['array']);
  const items = field(only(containers, 23), 1);
  assert.equal(items.length, 1);
  assert.deepEqual(text(items[0]!.bytes!, 1), ['#/definitions/io.k8s.api.core.v1.Container']);
  assert.deepEqual(extensions(containers, 31), {
    'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name',
    'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
  });
  const nodeSelector = properties.get('nodeSelector')!;
  const valueSchema = only(only(nodeSelector, 21), 1);
  assert.deepEqual(text(only(valueSchema, 22), 1), ['string']);

  const paths = named(field(only(protobuf, 8), 2));
  assert.deepEqual([...paths.keys()], Object.keys(jsonDoc.paths));
  const podItem = paths.get('/api/v1/namespaces/{namespace}/pods/{name}')!;
  const patch = only(podItem, 8);
  assert.deepEqual(text(patch, 5), ['patchCoreV1NamespacedPod']);
  assert.deepEqual(extensions(patch, 13)['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' });
  const queryNames = field(patch, 8).flatMap((p) => {
    const nonBody = field(only(p.bytes!, 1), 2);
    return nonBody.length === 0 ? [] : text(only(nonBody[0]!.bytes!, 3), 4);
  });
  assert.deepEqual(queryNames, ['dryRun', 'fieldManager', 'force']);
  const pathParameterNames = field(podItem, 9).flatMap((p) => {
    const nonBody = field(only(p.bytes!, 1), 2);
    return field(nonBody[0]!.bytes!, 4).map((sub) => text(sub.bytes!, 4)[0]);
  });
  assert.deepEqual(pathParameterNames, ['name', 'namespace']);
});
