/**
 * The replicated log against a real etcd: the fencing transaction, a deposed leader that cannot
 * write although it does not know it was deposed, revisions continuing across leaders, followers
 * applying records with the leader's revisions, snapshots bounding etcd's history.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { WriteUnavailableError } from '../../../src/storage/durable-log.js';
import { Store } from '../../../src/storage/store.js';
import type { KubeObject } from '../../../src/api/object.js';
import { connectEtcd } from '../../../src/storage/etcd/connect.js';
import { fencedTxn, put, refusalReason, type Term } from '../../../src/storage/etcd/fencing.js';
import { EtcdLayout } from '../../../src/storage/etcd/layout.js';
import { sealLeader } from '../../../src/storage/etcd/records.js';
import { EtcdLog } from '../../../src/storage/etcd/replicated-log.js';
import { etcdMissing, startEtcdCluster, type EtcdCluster } from '../../e2e/etcd-cluster.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCertificate } from '../../../src/auth/pki.js';

const missing = etcdMissing();
const cm = (name: string, value: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data: { value } });

interface HandReplica {
  store: Store;
  log: EtcdLog;
  lost: string[];
  term?: Term;
}

describe('replicated log on etcd', { skip: missing }, () => {
  let etcd: EtcdCluster;
  let client: Etcd3;
  const dataKey = crypto.randomBytes(32);

  before(async () => {
    etcd = await startEtcdCluster(1);
    client = connectEtcd({ endpoints: etcd.endpoints });
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
  });

  /** A replica whose leadership this test drives by hand (no watch, no keep-alive: it learns nothing by itself). */
  async function replica(layout: EtcdLayout): Promise<HandReplica> {
    const lost: string[] = [];
    let store!: Store;
    const log = new EtcdLog({ client, layout, dataKey, onCommitted: (m) => store.applyCommitted(m), rewind: (r) => store.rewindTo(r), onLeadershipLost: (reason) => lost.push(reason) });
    store = new Store({ durableLog: log });
    store.restore(await log.recover());
    return { store, log, lost };
  }

  async function elect(layout: EtcdLayout, who: HandReplica): Promise<Term> {
    const lease = await client.leaseClient.leaseGrant({ TTL: 30 });
    const response = await client.kv.txn({
      compare: [{ key: layout.leader, target: 'Version', result: 'Equal', version: '0' }],
      success: [{ request_put: { key: layout.leader, value: sealLeader(dataKey, { id: String(Math.random()), url: 'https://127.0.0.1:1' }), lease: lease.ID } }],
    });
    assert.ok(response.succeeded, 'the leader key was free');
    const term: Term = { createRevision: Number(response.header.revision), leaseId: lease.ID };
    await who.log.beginTerm(term);
    who.term = term;
    return term;
  }

  it('the fencing transaction applies only for the leader key this replica created, on the head it last wrote', async () => {
    const layout = new EtcdLayout(`/fence-${crypto.randomBytes(4).toString('hex')}/`);
    const lease = await client.leaseClient.leaseGrant({ TTL: 30 });
    const created = await client.kv.txn({ success: [{ request_put: { key: layout.leader, value: Buffer.from('x'), lease: lease.ID } }] });
    const term: Term = { createRevision: Number(created.header.revision), leaseId: lease.ID };
    const write = (t: Term, head: number, value: string) => client.kv.txn(fencedTxn(layout, t, head, [put(layout.log(1), Buffer.from(value)), put(layout.head, Buffer.from(value))]));

    const first = await write(term, 0, 'a');
    assert.equal(first.succeeded, true);
    const head = Number(first.header.revision);
    const stale = await write(term, 0, 'b');
    assert.equal(stale.succeeded, false);
    assert.match(refusalReason(stale, term, 0), /the log head moved/);
    const wrongLease: Term = { ...term, leaseId: (await client.leaseClient.leaseGrant({ TTL: 30 })).ID };
    const otherLease = await write(wrongLease, head, 'c');
    assert.equal(otherLease.succeeded, false);
    assert.match(refusalReason(otherLease, wrongLease, head), /another replica holds the leadership/);
    const wrongTerm: Term = { ...term, createRevision: term.createRevision - 1 };
    const otherTerm = await write(wrongTerm, head, 'd');
    assert.equal(otherTerm.succeeded, false);
    assert.match(refusalReason(otherTerm, wrongTerm, head), /another replica holds the leadership/);
    await client.leaseClient.leaseRevoke({ ID: lease.ID });
    const gone = await write(term, head, 'e');
    assert.equal(gone.succeeded, false);
    assert.match(refusalReason(gone, term, head), /the leader key is gone/);
    assert.equal((await client.get(layout.log(1).toString()).string()), 'a', 'only the first, fenced-in write applied');
  });

  it('a deposed leader cannot write, even before it knows: its write is refused (retriable), forgotten, and never reaches etcd', async () => {
    const layout = new EtcdLayout(`/depose-${crypto.randomBytes(4).toString('hex')}/`);
    const a = await replica(layout);
    const termA = await elect(layout, a);
    await a.store.create('core/configmaps', 'ns/one', cm('one', '1'));
    await a.store.create('core/configmaps', 'ns/two', cm('two', '2'));

    // A is deposed behind its back: its lease revoked, B elected, B writes.
    const b = await replica(layout);
    assert.equal(b.store.revision, 2, 'B loaded what A wrote');
    await client.leaseClient.leaseRevoke({ ID: termA.leaseId });
    await elect(layout, b);
    const fromB = await b.store.create('core/configmaps', 'ns/three', cm('three', 'from B'));
    assert.equal(fromB.revision, 3, 'revisions continue across leaders');

    // A still believes it leads; its store hands out revision 3 again.
    await assert.rejects(a.store.create('core/configmaps', 'ns/stale', cm('stale', 'from A')), (error: unknown) => error instanceof WriteUnavailableError && error.applied === 'no');
    assert.equal(a.store.get('core/configmaps', 'ns/stale'), undefined, 'the refused write is forgotten');
    assert.equal(a.store.revision, 2);
    assert.match(a.lost[0] ?? '', /fenced: another replica holds the leadership/);
    assert.equal(a.log.leading, false);
    await assert.rejects(a.store.create('core/configmaps', 'ns/later', cm('later', 'x')), WriteUnavailableError);

    // etcd holds B's revision 3 only: a fresh replica reads exactly what B wrote.
    const c = await replica(layout);
    assert.equal(c.store.revision, 3);
    assert.equal((c.store.get('core/configmaps', 'ns/three')!.object.data as { value: string }).value, 'from B');
    assert.equal(c.store.get('core/configmaps', 'ns/stale'), undefined);
  });

  it('writes in flight when leadership ends are refused, not acknowledged; what etcd took shows after the re-read', async () => {
    const layout = new EtcdLayout(`/inflight-${crypto.randomBytes(4).toString('hex')}/`);
    const a = await replica(layout);
    await elect(layout, a);
    const writes = Array.from({ length: 50 }, (_, i) => a.store.create('core/configmaps', `ns/w${i}`, cm(`w${i}`, String(i))).then(() => 'ok', (error: Error) => error));
    await new Promise((resolve) => setImmediate(resolve));
    a.log.endTerm('test: leadership lost', 'unknown');
    const outcomes = await Promise.all(writes);
    const acknowledged = outcomes.filter((o) => o === 'ok').length;
    assert.ok(outcomes.every((o) => o === 'ok' || o instanceof WriteUnavailableError), 'every write is acknowledged or refused as retriable');
    assert.equal(a.store.revision, acknowledged, 'the store holds exactly the acknowledged writes');
    const reader = await replica(layout);
    assert.ok(reader.store.revision >= acknowledged, 'nothing acknowledged is missing from etcd');
    for (let i = 0; i < acknowledged; i++) assert.ok(reader.store.get('core/configmaps', `ns/w${i}`), `w${i}`);
  });

  it('a follower applies the records with the leader\'s revisions; a snapshot deletes the records it covers and compacts etcd', async () => {
    const layout = new EtcdLayout(`/snap-${crypto.randomBytes(4).toString('hex')}/`);
    const leader = await replica(layout);
    await elect(layout, leader);
    const follower = await replica(layout);
    const watcher = await client.watch().prefix(layout.prefix).startRevision(String(follower.log.appliedEtcdRevision + 1)).create();
    watcher.on('data', (response) => follower.log.applyWatchResponse(response));
    for (let i = 0; i < 120; i++) await leader.store.create('core/configmaps', `ns/c${i}`, cm(`c${i}`, String(i)));
    await leader.store.update('core/configmaps', 'ns/c0', cm('c0', 'changed'));
    await leader.store.delete('core/configmaps', 'ns/c1');
    assert.ok(await follower.log.waitForRevision(leader.store.revision, 10_000));
    assert.equal(follower.store.revision, leader.store.revision);
    const listed = (store: Store) => store.list('core/configmaps').items.map((item) => [item.object.metadata.name, item.revision, item.json.toString()]);
    assert.deepEqual(listed(follower.store), listed(leader.store));

    const first = leader.store.snapshotEntries();
    await leader.log.snapshot(first.revision, first.entries);
    const firstCommit = Number((await client.kv.range({ key: layout.snapshot })).kvs[0]!.mod_revision);
    for (let i = 0; i < 10; i++) await leader.store.create('core/configmaps', `ns/d${i}`, cm(`d${i}`, String(i)));
    const second = leader.store.snapshotEntries();
    await leader.log.snapshot(second.revision, second.entries);
    await leader.store.create('core/configmaps', 'ns/tail', cm('tail', 'after the snapshot'));

    const logKeys = await client.kv.range({ key: layout.logRange(0)[0], range_end: layout.logRange(0)[1], keys_only: true });
    assert.deepEqual(logKeys.kvs.map((kv) => layout.revisionOfLogKey(kv.key)), [second.revision + 1], 'only the record after the snapshot is left');
    await assert.rejects(client.kv.range({ key: layout.snapshot, revision: String(firstCommit - 1) }), /compacted/, 'history before the previous snapshot is compacted');
    const restarted = await replica(layout);
    assert.equal(restarted.store.revision, leader.store.revision);
    assert.deepEqual(listed(restarted.store), listed(leader.store));
    await watcher.cancel();
  });
});

describe('etcd over TLS', { skip: missing }, () => {
  it('connects with --etcd-cafile, --etcd-certfile and --etcd-keyfile, and is refused without a client certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nautilus-etcd-tls-'));
    const ca = await createCa('etcd-test-ca');
    const server = await issueCertificate(ca, { commonName: 'etcd', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], usage: 'server', validDays: 1 });
    const client = await issueCertificate(ca, { commonName: 'nautilus', usage: 'client', validDays: 1 });
    const files = { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), clientCertFile: join(dir, 'client.crt'), clientKeyFile: join(dir, 'client.key') };
    await Promise.all([
      writeFile(files.caFile, ca.certPem), writeFile(files.certFile, server.certPem), writeFile(files.keyFile, server.keyPem, { mode: 0o600 }),
      writeFile(files.clientCertFile, client.certPem), writeFile(files.clientKeyFile, client.keyPem, { mode: 0o600 }),
    ]);
    const etcd = await startEtcdCluster(1, [], files);
    try {
      assert.match(etcd.endpoints[0]!, /^https:/);
      const secure = connectEtcd({ endpoints: etcd.endpoints, caFile: files.caFile, certFile: files.clientCertFile, keyFile: files.clientKeyFile });
      const layout = new EtcdLayout('/tls/');
      const log = new EtcdLog({ client: secure, layout, dataKey: crypto.randomBytes(32), onCommitted: () => undefined, rewind: () => undefined, onLeadershipLost: () => undefined });
      assert.deepEqual(await log.recover(), { snapshotRevision: 0, entries: [], mutations: [] });
      secure.close();
      const anonymous = connectEtcd({ endpoints: etcd.endpoints, caFile: files.caFile });
      await assert.rejects(anonymous.kv.range({ key: Buffer.from('/tls/keycheck') }));
      anonymous.close();
    } finally {
      await etcd.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
