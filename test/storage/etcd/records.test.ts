/** The sealed record layout Nautilus keeps in etcd, and where each record lives (no etcd needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Mutation } from '../../../src/storage/durable-log.js';
import { IntegrityError } from '../../../src/storage/wal/errors.js';
import { signingKeyFromDataKey } from '../../../src/storage/wal/index.js';
import { EtcdLayout, prefixEnd } from '../../../src/storage/etcd/layout.js';
import { decodeHead, encodeHead, GENESIS_CHAIN_HASH, openLeader, openLogRecord, sealLeader, sealLogBatch } from '../../../src/storage/etcd/records.js';

const dataKey = crypto.randomBytes(32);
const mutation = (revision: number, name: string, secret: string): Mutation => ({
  revision,
  type: 'put',
  resource: 'core/secrets',
  key: `team-alpha/${name}`,
  value: Buffer.from(JSON.stringify({ metadata: { name, namespace: 'team-alpha', labels: { owner: 'alice-in-finance' } }, data: { password: secret } })),
});

test('a batch seals one record per revision that opens only in order, with the data key, at its own revision', () => {
  const mutations = [mutation(1, 'db-password', 'hunter2'), mutation(2, 'api-token', 'correct-horse'), mutation(3, 'tls', 'battery-staple')];
  const { values, hashes } = sealLogBatch(dataKey, mutations, GENESIS_CHAIN_HASH);
  assert.equal(values.length, 3);
  let prev: Buffer = GENESIS_CHAIN_HASH;
  mutations.forEach((expected, i) => {
    const { mutation: opened, chainHash } = openLogRecord(dataKey, expected.revision, values[i]!, prev);
    assert.equal(opened.key, expected.key);
    assert.equal(opened.resource, expected.resource);
    assert.deepEqual(Buffer.from(opened.value), Buffer.from(expected.value));
    assert.deepEqual(chainHash, hashes[i]);
    prev = chainHash;
  });
});

test('etcd sees no names, labels or data: values are ciphertext and keys are numbers', () => {
  const layout = new EtcdLayout('/nautilus/');
  const { values } = sealLogBatch(dataKey, [mutation(7, 'db-password', 'hunter2')], GENESIS_CHAIN_HASH);
  const stored = Buffer.concat([layout.log(7), values[0]!]).toString('latin1');
  for (const plaintext of ['db-password', 'hunter2', 'team-alpha', 'alice-in-finance', 'secrets', 'password']) assert.ok(!stored.includes(plaintext), plaintext);
  // The same write sealed twice (a retry after a refused transaction) never repeats ciphertext.
  const again = sealLogBatch(dataKey, [mutation(7, 'db-password', 'hunter2')], GENESIS_CHAIN_HASH).values[0]!;
  assert.notDeepEqual(again.subarray(17), values[0]!.subarray(17));
});

test('a record that is moved, altered, out of chain or opened with another key is refused, naming the revision', () => {
  const { values, hashes } = sealLogBatch(dataKey, [mutation(1, 'a', 'x'), mutation(2, 'b', 'y')], GENESIS_CHAIN_HASH);
  const refuses = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (error: unknown) => error instanceof IntegrityError && pattern.test(error.message));
  refuses(() => openLogRecord(dataKey, 3, values[1]!, hashes[0]!), /record 3: holds revision 2: records were moved/);
  refuses(() => openLogRecord(dataKey, 2, values[1]!, GENESIS_CHAIN_HASH), /record 2: does not follow the previous record/);
  const flipped = Buffer.from(values[1]!);
  flipped[flipped.length - 20]! ^= 1;
  refuses(() => openLogRecord(dataKey, 2, flipped, hashes[0]!), /record 2: fails authentication/);
  refuses(() => openLogRecord(crypto.randomBytes(32), 1, values[0]!, GENESIS_CHAIN_HASH), /record 1: fails authentication/);
  refuses(() => openLogRecord(dataKey, 1, Buffer.from('plain text'), GENESIS_CHAIN_HASH), /not a Nautilus log record/);
});

test('the head is a checkpoint signed with the key derived from the data key', () => {
  const signingKey = signingKeyFromDataKey(dataKey);
  const position = { revision: 42, sequence: 42, chainHash: crypto.randomBytes(32) };
  const head = encodeHead(position, signingKey);
  assert.deepEqual(decodeHead(head, crypto.createPublicKey(signingKey)), position);
  const forged = encodeHead({ ...position, revision: 41 }, signingKeyFromDataKey(crypto.randomBytes(32)));
  assert.throws(() => decodeHead(forged, crypto.createPublicKey(signingKey)), IntegrityError);
});

test('the leader record is sealed; another key opens nothing', () => {
  const sealed = sealLeader(dataKey, { id: 'r1', url: 'https://10.1.2.3:6443' });
  assert.ok(!sealed.toString('latin1').includes('10.1.2.3'));
  assert.deepEqual(openLeader(dataKey, sealed), { id: 'r1', url: 'https://10.1.2.3:6443' });
  assert.equal(openLeader(crypto.randomBytes(32), sealed), undefined);
});

test('revision N lives at log/<N as 16 hex digits>: etcd key order is revision order', () => {
  const layout = new EtcdLayout('/c1/');
  const revisions = [1, 2, 9, 10, 15, 16, 255, 256, 4096, 2 ** 40, 2 ** 53 - 1];
  const keys = revisions.map((revision) => layout.log(revision));
  assert.deepEqual([...keys].sort(Buffer.compare), keys);
  for (const revision of revisions) assert.equal(layout.revisionOfLogKey(layout.log(revision)), revision);
  assert.equal(layout.revisionOfLogKey(layout.head), undefined);
  assert.equal(layout.revisionOfLogKey(Buffer.from('/c1/log/xyz')), undefined);
  const [from, to] = layout.logRange(10, 16);
  assert.ok(Buffer.compare(from, layout.log(10)) === 0 && Buffer.compare(layout.log(15), to) < 0 && Buffer.compare(layout.log(16), to) === 0);
  const [, end] = layout.logRange(1);
  assert.ok(Buffer.compare(layout.log(2 ** 53 - 1), end) < 0 && Buffer.compare(layout.snapshot, end) > 0);
  assert.deepEqual(prefixEnd(Buffer.from('/c1/')), Buffer.from('/c10'));
  assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
});
