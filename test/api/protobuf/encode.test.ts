import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decodeKubernetesProtobuf } from '../../../src/api/protobuf/decode.js';
import { canEncodeKubernetesProtobuf, encodeKubernetesProtobuf } from '../../../src/api/protobuf/encode.js';
import { parseGoDuration } from '../../../src/api/protobuf/wellknown.js';
import { ApiError } from '../../../src/api/status.js';
import { envelope, len, num } from './wire-builder.js';

const FIXTURES = path.resolve('test/api/protobuf/fixtures');

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
  }
  return value;
}

describe('encodeKubernetesProtobuf', () => {
  it('writes the envelope and fields in field-number order, maps sorted by key', () => {
    const body = encodeKubernetesProtobuf({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      immutable: false,
      data: { b: '2', a: '1' },
      metadata: { name: 'cfg', labels: { app: 'x' } },
    });
    const raw = Buffer.concat([
      len(1, len(1, 'cfg'), len(11, len(1, 'app'), len(2, 'x'))),
      len(2, len(1, 'a'), len(2, '1')),
      len(2, len(1, 'b'), len(2, '2')),
      num(4, 0),
    ]);
    assert.deepEqual(body, Buffer.concat([envelope('v1', 'ConfigMap', raw), len(3, ''), len(4, '')]));
  });

  for (const file of fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort()) {
    it(`${file}: the JSON kubectl sent survives encode then decode`, () => {
      const object = withoutNulls(JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'))) as Record<string, unknown>;
      assert.deepEqual(decodeKubernetesProtobuf(encodeKubernetesProtobuf(object)), object);
    });
  }

  it('encodes times, micro-times, int-or-string, embedded JSON and negative numbers', () => {
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l', creationTimestamp: '2024-01-01T00:00:00Z', deletionGracePeriodSeconds: -5 },
      spec: { holderIdentity: '', acquireTime: '2024-01-01T10:20:30.000123Z', leaseDurationSeconds: 0 },
    };
    assert.deepEqual(decodeKubernetesProtobuf(encodeKubernetesProtobuf(lease)), lease);
    const revision = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, data: { spec: { a: [1, 'b'] } }, revision: 3 };
    assert.deepEqual(decodeKubernetesProtobuf(encodeKubernetesProtobuf(revision)), revision);
  });

  it('refuses kinds it has no schema for with 406, and values of the wrong type with an ApiError', () => {
    assert.equal(canEncodeKubernetesProtobuf('example.com/v1', 'Widget'), false);
    assert.equal(canEncodeKubernetesProtobuf('apps/v1', 'Deployment'), true);
    assert.throws(() => encodeKubernetesProtobuf({ apiVersion: 'example.com/v1', kind: 'Widget' }), (e: unknown) => e instanceof ApiError && e.code === 406);
    assert.throws(
      () => encodeKubernetesProtobuf({ apiVersion: 'apps/v1', kind: 'Deployment', spec: { replicas: 'three' } }),
      (e: unknown) => e instanceof ApiError && /"three"/.test(e.message),
    );
  });
});

describe('parseGoDuration', () => {
  it('parses Go duration strings to nanoseconds', () => {
    assert.equal(parseGoDuration('1h0m0s'), 3_600_000_000_000n);
    assert.equal(parseGoDuration('1m30s'), 90_000_000_000n);
    assert.equal(parseGoDuration('1.5s'), 1_500_000_000n);
    assert.equal(parseGoDuration('-250ms'), -250_000_000n);
    assert.equal(parseGoDuration('1.5µs'), 1_500n);
    assert.equal(parseGoDuration('0'), 0n);
  });

  it('rejects text that is not a duration', () => {
    for (const text of ['', '5', '1d', 'h', '1h 2m']) assert.equal(parseGoDuration(text), undefined, text);
  });
});
