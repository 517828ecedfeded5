import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decodeKubernetesProtobuf, isKubernetesProtobuf } from '../../../src/api/protobuf/decode.js';
import { goDuration } from '../../../src/api/protobuf/wellknown.js';
import { ApiError } from '../../../src/api/status.js';
import { envelope, len, num } from './wire-builder.js';

const FIXTURES = path.resolve('test/api/protobuf/fixtures');
const fixtureNames = fs
  .readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.pb'))
  .map((file) => file.slice(0, -'.pb'.length))
  .sort();

/** Go's JSON writes nil pointers, slices and zero times as null; the protobuf form simply leaves them out. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
  }
  return value;
}

function fixture(name: string): { protobuf: Buffer; json: unknown } {
  return {
    protobuf: fs.readFileSync(path.join(FIXTURES, `${name}.pb`)),
    json: withoutNulls(JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'))),
  };
}

function rejects(body: Buffer, code: number, message: RegExp): void {
  assert.throws(
    () => decodeKubernetesProtobuf(body),
    (error: unknown) => error instanceof ApiError && error.code === code && message.test(error.message),
  );
}

describe('isKubernetesProtobuf', () => {
  it('recognises the protobuf media type with parameters and any case', () => {
    assert.equal(isKubernetesProtobuf('application/vnd.kubernetes.protobuf'), true);
    assert.equal(isKubernetesProtobuf('Application/VND.Kubernetes.Protobuf; charset=utf-8'), true);
    assert.equal(isKubernetesProtobuf('application/vnd.kubernetes.protobuf;stream=watch'), true);
  });

  it('rejects other media types and a missing header', () => {
    assert.equal(isKubernetesProtobuf('application/json'), false);
    assert.equal(isKubernetesProtobuf('application/vnd.kubernetes.protobuf+json'), false);
    assert.equal(isKubernetesProtobuf(undefined), false);
  });
});

describe('decodeKubernetesProtobuf on bodies captured from kubectl', () => {
  it('has fixtures for every command the brief lists', () => {
    for (const name of ['namespace', 'deployment', 'configmap', 'secret', 'service', 'job', 'cronjob', 'role', 'rolebinding',
      'clusterrolebinding', 'quota', 'priorityclass', 'pdb-percent', 'ingress', 'serviceaccount', 'can-i', 'token']) {
      assert.ok(fixtureNames.includes(name), `missing fixture ${name}`);
    }
  });

  for (const name of fixtureNames) {
    it(`${name}: equals the JSON body kubectl sends for the same command`, () => {
      const { protobuf, json } = fixture(name);
      assert.deepEqual(decodeKubernetesProtobuf(protobuf), json);
    });
  }

  it('keeps a zero that was explicitly set (replicas: 0) and drops unset plain fields', () => {
    const deployment = decodeKubernetesProtobuf(fixture('deployment-zero-replicas').protobuf) as {
      metadata: Record<string, unknown>;
      spec: { replicas?: number; minReadySeconds?: number; paused?: boolean };
    };
    assert.equal(deployment.spec.replicas, 0);
    assert.equal('minReadySeconds' in deployment.spec, false);
    assert.equal('paused' in deployment.spec, false);
    assert.equal('namespace' in deployment.metadata, false);
    assert.equal('creationTimestamp' in deployment.metadata, false);
  });

  it('renders Secret data as base64 and IntOrString as number or string', () => {
    const secret = decodeKubernetesProtobuf(fixture('secret').protobuf) as { data: Record<string, string> };
    assert.equal(Buffer.from(secret.data.pass, 'base64').toString(), 's3cr3t!');
    const service = decodeKubernetesProtobuf(fixture('service').protobuf) as { spec: { ports: { targetPort: unknown }[] } };
    assert.deepEqual(service.spec.ports.map((p) => p.targetPort), [8080, 'https']);
  });
});

describe('decodeKubernetesProtobuf on hand-built bodies', () => {
  const LEASE_SPEC_MICROTIME = (field: number, seconds: number, nanos: number) => len(field, num(1, seconds), num(2, nanos));

  it('renders MicroTime with microseconds and Time in whole seconds', () => {
    // 2024-01-01T00:00:00Z is 1704067200 seconds after the epoch.
    const lease = decodeKubernetesProtobuf(
      envelope('coordination.k8s.io/v1', 'Lease', Buffer.concat([
        len(1, len(1, 'leader'), len(8, num(1, 1704067200), num(2, 999_000_000))),
        len(2, len(1, 'node-a'), num(2, 15), LEASE_SPEC_MICROTIME(3, 1704067200, 123_456_789), num(5, 0)),
      ])),
    );
    assert.deepEqual(lease, {
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      metadata: { name: 'leader', creationTimestamp: '2024-01-01T00:00:00Z' },
      spec: { holderIdentity: 'node-a', leaseDurationSeconds: 15, acquireTime: '2024-01-01T00:00:00.123456Z', leaseTransitions: 0 },
    });
  });

  it('decodes negative and 64-bit integers exactly', () => {
    const options = decodeKubernetesProtobuf(envelope('v1', 'DeleteOptions', Buffer.concat([num(1, -1), len(5, 'All')])));
    assert.deepEqual(options, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: -1, dryRun: ['All'] });
    const revision = decodeKubernetesProtobuf(envelope('apps/v1', 'ControllerRevision', num(3, 2 ** 40 + 7)));
    assert.equal(revision.revision, 2 ** 40 + 7);
  });

  it('decodes an Eviction with nested DeleteOptions (kubectl drain)', () => {
    const eviction = decodeKubernetesProtobuf(
      envelope('policy/v1', 'Eviction', Buffer.concat([
        len(1, len(1, 'web-0'), len(3, 'prod')),
        len(2, num(1, 30), len(2, len(1, 'uid-1'))),
      ])),
    );
    assert.deepEqual(eviction, {
      kind: 'Eviction',
      apiVersion: 'policy/v1',
      metadata: { name: 'web-0', namespace: 'prod' },
      deleteOptions: { gracePeriodSeconds: 30, preconditions: { uid: 'uid-1' } },
    });
  });

  it('parses RawExtension JSON and nested protobuf envelopes', () => {
    const inner = envelope('v1', 'ConfigMap', len(1, len(1, 'inner')));
    const json = decodeKubernetesProtobuf(envelope('apps/v1', 'ControllerRevision', len(2, len(1, '{"spec":{"x":1}}'))));
    assert.deepEqual(json.data, { spec: { x: 1 } });
    const nested = decodeKubernetesProtobuf(envelope('apps/v1', 'ControllerRevision', len(2, len(1, inner))));
    assert.deepEqual(nested.data, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'inner' } });
  });

  it('skips fields it does not know, as protobuf readers must', () => {
    const namespace = decodeKubernetesProtobuf(envelope('v1', 'Namespace', Buffer.concat([len(1, len(1, 'n')), num(99, 5), len(98, 'x')])));
    assert.deepEqual(namespace, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'n' } });
  });

  it('keeps a map key named __proto__ as an ordinary entry', () => {
    const configMap = decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', len(2, len(1, '__proto__'), len(2, 'v'))));
    const data = configMap.data as Record<string, unknown>;
    assert.deepEqual(Object.keys(data), ['__proto__']);
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
  });
});

describe('decodeKubernetesProtobuf on malformed bodies', () => {
  const good = () => fixture('deployment').protobuf;

  it('rejects a body without the magic prefix', () => {
    rejects(Buffer.from('{"kind":"Namespace"}'), 400, /magic prefix/);
    rejects(Buffer.alloc(0), 400, /magic prefix/);
  });

  it('rejects a truncated body', () => {
    const body = good();
    rejects(body.subarray(0, body.length - 20), 400, /runs past the end/);
    rejects(Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x0a, 0x80])]), 400, /truncated varint/);
  });

  it('rejects a field with the wrong wire type', () => {
    rejects(envelope('v1', 'Namespace', num(1, 3)), 400, /wire type 0, expected 2/);
  });

  it('rejects an apiVersion/kind it has no schema for with 415', () => {
    rejects(envelope('example.com/v1', 'Widget', Buffer.alloc(0)), 415, /example\.com\/v1.*Widget/);
    rejects(envelope('v1', 'toString', Buffer.alloc(0)), 415, /toString/);
  });

  it('rejects an envelope without a kind', () => {
    rejects(Buffer.concat([Buffer.from('k8s\0', 'latin1'), len(2, Buffer.alloc(0))]), 400, /kind/);
  });

  it('bounds the nesting depth of embedded objects', () => {
    let body = envelope('apps/v1', 'ControllerRevision', Buffer.alloc(0));
    for (let i = 0; i < 100; i++) body = envelope('apps/v1', 'ControllerRevision', len(2, len(1, body)));
    rejects(body, 400, /nests deeper/);
  });

  it('answers every corrupted variant of a real body with an ApiError or an object, never a crash', () => {
    const original = good();
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 2000; round++) {
      const body = Buffer.from(original);
      const flips = 1 + Math.floor(random() * 4);
      for (let i = 0; i < flips; i++) body[4 + Math.floor(random() * (body.length - 4))] = Math.floor(random() * 256);
      try {
        const result = decodeKubernetesProtobuf(body.subarray(0, 4 + Math.floor(random() * (body.length - 3))));
        assert.equal(typeof result, 'object');
      } catch (error) {
        assert.ok(error instanceof ApiError, `round ${round}: ${String(error)}`);
        assert.ok([400, 415].includes(error.code));
      }
    }
  });
});

describe('goDuration', () => {
  it('formats like Go time.Duration.String', () => {
    const cases: [bigint, string][] = [
      [0n, '0s'],
      [3600_000_000_000n, '1h0m0s'],
      [90_000_000_000n, '1m30s'],
      [1_500_000_000n, '1.5s'],
      [250_000_000n, '250ms'],
      [1_500n, '1.5µs'],
      [7n, '7ns'],
      [-2_000_000_000n, '-2s'],
      [3_723_000_000_000n, '1h2m3s'],
    ];
    for (const [nanos, text] of cases) assert.equal(goDuration(nanos), text);
  });
});
