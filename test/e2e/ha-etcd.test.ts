/**
 * High availability on etcd, end to end: a 3-member etcd on loopback, 3 Nautilus replicas
 * (`node dist/src/cli/main.js serve --storage etcd`), writers that record every acknowledged
 * write through all replicas, and the leader SIGKILLed several times (restarted as a follower each
 * time), then frozen past its lease. Checks: no acknowledged write lost, no revision used twice or
 * going backwards, every replica converges to the same objects, watches opened before each kill
 * resume without 410, kubectl keeps working through the survivors, failover under a second;
 * etcd holds no plaintext; a replica joins by attestation, and one that is not the attested build,
 * or has no key, reads nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type ClientHttp2Session } from 'node:http2';
import { appendFile, copyFile, cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { parse } from 'yaml';
import { simulatedPcrs } from '../../src/tee/simulated.js';
import { eventually, KUBECTL, startServer, type TestServer } from './harness.js';
import { etcdMissing, startEtcdCluster, type EtcdCluster } from './etcd-cluster.js';

const missing = etcdMissing();
if (missing) process.stdout.write(`# skipping the HA test: ${missing}\n`);

const RUN = randomBytes(4).toString('hex');
const NAMESPACE = `ha-ns-${RUN}`;
const LABEL = `ha-writer-${RUN}`;
const SECRET = `ha-secret-${RUN}`;
const KILLS = 3;
const WRITERS = 3;

interface Tls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

interface Answer {
  status: number;
  body: string;
}

/** One HTTP/2 session per replica URL, re-opened when it dies; every request bounded. */
class ReplicaClient {
  private session: ClientHttp2Session | undefined;
  constructor(readonly url: string, private readonly tls: Tls) {}

  request(method: string, path: string, body?: unknown, timeoutMs = 2000): Promise<Answer> {
    if (!this.session || this.session.destroyed || this.session.closed) {
      this.session = connect(this.url, this.tls);
      this.session.on('error', () => undefined);
    }
    const session = this.session;
    return new Promise((resolve, reject) => {
      const stream = session.request({ ':method': method, ':path': path, ...(body !== undefined && { 'content-type': 'application/json' }) });
      const chunks: Buffer[] = [];
      let status = 0;
      const timer = setTimeout(() => {
        stream.close();
        reject(new Error('timed out'));
      }, timeoutMs);
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        clearTimeout(timer);
        if (status === 0) reject(new Error('the stream closed without an answer'));
        else resolve({ status, body: Buffer.concat(chunks).toString('utf8') });
      });
      stream.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      stream.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** A long-lived watch; `onLine` gets each event line, `onEnd` when the stream stops. */
  watch(path: string, onLine: (line: string) => void, onEnd: (why: string) => void): () => void {
    const session = connect(this.url, this.tls);
    session.on('error', () => undefined);
    const stream = session.request({ ':method': 'GET', ':path': path });
    let buffered = '';
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      onEnd(why);
    };
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        onLine(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
    });
    stream.on('end', () => end('ended'));
    stream.on('error', (error) => end(error.message));
    session.on('close', () => end('session closed'));
    return () => {
      ended = true;
      session.destroy();
    };
  }

  close(): void {
    this.session?.destroy();
  }
}

interface Ack {
  name: string;
  revision: number;
  value: string;
  writer: number;
  replica: number;
  startedAt: number;
  ackedAt: number;
}

interface WatchEvent {
  type: string;
  name: string;
  revision: number;
}

describe('HA on etcd: 3 replicas, leader killed repeatedly', { skip: missing, timeout: 170_000 }, () => {
  let etcd: EtcdCluster;
  let base: string;
  const dirs: string[] = [];
  const servers: Array<TestServer | undefined> = [];
  const clients: ReplicaClient[] = [];
  const alive: boolean[] = [];
  let tls: Tls;
  let kubeconfig: string;
  let replicaArgs: string[];
  let policyFile: string;

  const urlOf = (i: number) => servers[i]!.url;

  async function startReplica(i: number): Promise<void> {
    servers[i] = await startServer(replicaArgs, dirs[i]);
    clients[i]?.close();
    clients[i] = new ReplicaClient(servers[i]!.url, tls);
    alive[i] = true;
  }

  async function isLeader(i: number): Promise<boolean> {
    const metrics = await clients[i]!.request('GET', '/metrics');
    const match = metrics.body.match(/^nautilus_storage_is_leader (\d)/m);
    assert.ok(match, `replica ${i} exposes nautilus_storage_is_leader`);
    return match[1] === '1';
  }

  /** The one leader among the live replicas (and that every other live replica says it follows). */
  async function leader(): Promise<number> {
    return eventually(async () => {
      const live = [0, 1, 2].filter((i) => alive[i]);
      const flags = await Promise.all(live.map((i) => isLeader(i)));
      const leaders = live.filter((_, k) => flags[k]);
      assert.equal(leaders.length, 1, `exactly one leader among ${live.join(',')}: ${leaders.join(',')}`);
      return leaders[0]!;
    }, 15_000);
  }

  before(async () => {
    etcd = await startEtcdCluster(3);
    base = await mkdtemp(join(tmpdir(), 'nautilus-ha-'));
    const pcr0 = (await simulatedPcrs()).get(0)!.toString('hex');
    policyFile = join(base, 'join-policy.yaml');
    await writeFile(policyFile, `format: simulated\npcrs: {0: "${pcr0}"}\n`);
    replicaArgs = ['--storage', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--etcd-snapshot-every', '200', '--join-policy', policyFile, '--allow-simulated'];
    for (let i = 0; i < 3; i++) {
      dirs[i] = join(base, `replica-${i}`);
      await mkdir(dirs[i]!, { recursive: true, mode: 0o700 });
    }
    await startReplica(0);
    // The local key provider's way to share the cluster: copies of the first replica's data.key and pki/.
    for (const i of [1, 2]) {
      await copyFile(join(dirs[0]!, 'data.key'), join(dirs[i]!, 'data.key'));
      await cp(join(dirs[0]!, 'pki'), join(dirs[i]!, 'pki'), { recursive: true });
    }
    kubeconfig = servers[0]!.kubeconfig;
    const config = parse(await readFile(kubeconfig, 'utf8'));
    const b64 = (s: string) => Buffer.from(s, 'base64');
    tls = { ca: b64(config.clusters[0].cluster['certificate-authority-data']), cert: b64(config.users[0].user['client-certificate-data']), key: b64(config.users[0].user['client-key-data']) };
    clients[0] = new ReplicaClient(servers[0]!.url, tls);
    await Promise.all([startReplica(1), startReplica(2)]);
  });

  after(async () => {
    for (const client of clients) client?.close();
    await Promise.all(servers.map((server) => server?.stop('SIGKILL')));
    await etcd?.stop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  /** kubectl with the one admin kubeconfig, against any replica. */
  async function kubectl(i: number, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, '--server', urlOf(i), ...args], { env: { ...process.env, HOME: base }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`kubectl ${args.join(' ')} via replica ${i} exited ${code}: ${err}`));
      });
    });
  }

  it('keeps every acknowledged write, one revision order and working watches and kubectl across leader kills, failing over in under a second', async () => {
    assert.equal((await Promise.all([0, 1, 2].map((i) => isLeader(i)))).filter(Boolean).length, 1, 'one leader among three replicas');
    await kubectl(0, ['create', 'namespace', NAMESPACE]);
    await eventually(async () => assert.match(await kubectl(2, ['get', 'namespace', NAMESPACE, '-o', 'name']), /namespace/));

    const acks: Ack[] = [];
    const refusals: Record<string, number> = {};
    const unexpected: string[] = [];
    let writing = true;
    const writer = async (k: number) => {
      let n = 0;
      let attempt = 0;
      while (writing) {
        const replica = (k + n + attempt) % 3;
        if (!alive[replica]) {
          attempt++;
          continue;
        }
        const name = `w${k}-${n}`;
        const value = `${SECRET}-${k}-${n}`;
        const startedAt = Date.now();
        try {
          const answer = await clients[replica]!.request('POST', `/api/v1/namespaces/${NAMESPACE}/configmaps`, {
            apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { writer: LABEL } }, data: { value },
          });
          if (answer.status === 201) {
            const object = JSON.parse(answer.body);
            acks.push({ name, revision: Number(object.metadata.resourceVersion), value, writer: k, replica, startedAt, ackedAt: Date.now() });
            n++;
            attempt = 0;
          } else if (answer.status === 409) {
            n++; // an earlier attempt whose answer was lost did land: exists, but was never acknowledged
          } else {
            refusals[answer.status] = (refusals[answer.status] ?? 0) + 1;
            if (![503, 504].includes(answer.status)) unexpected.push(`${answer.status} ${answer.body}`);
            attempt++;
          }
        } catch (error) {
          refusals[(error as Error).message.slice(0, 40)] = (refusals[(error as Error).message.slice(0, 40)] ?? 0) + 1;
          attempt++;
          await new Promise((r) => setTimeout(r, 10));
        }
        await new Promise((r) => setTimeout(r, 3));
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, k) => writer(k));

    // A watch that, when its replica goes, resumes from the last revision it saw on a survivor.
    const watches: Array<{ label: string; from: number; events: WatchEvent[]; errors: string[]; resumes: number; stop(): void }> = [];
    const openWatch = (label: string, on: number, from: number) => {
      const record = { label, from, events: [] as WatchEvent[], errors: [] as string[], resumes: 0, stop: () => undefined as void };
      let replica = on;
      let last = from;
      let stopped = false;
      const start = () => {
        const cancel = clients[replica]!.watch(`/api/v1/namespaces/${NAMESPACE}/configmaps?watch=1&resourceVersion=${last}`, (line) => {
          const event = JSON.parse(line);
          if (event.type === 'ERROR') {
            record.errors.push(JSON.stringify(event.object));
            return;
          }
          const revision = Number(event.object.metadata.resourceVersion);
          record.events.push({ type: event.type, name: event.object.metadata.name, revision });
          last = revision;
        }, () => {
          if (stopped) return;
          record.resumes++;
          const next = [1, 2, 0].map((d) => (replica + d) % 3).find((i) => alive[i] && i !== replica) ?? replica;
          replica = next;
          setTimeout(() => !stopped && start(), 50);
        });
        record.stop = () => {
          stopped = true;
          cancel();
        };
      };
      start();
      watches.push(record);
    };

    const failovers: number[] = [];
    for (let kill = 1; kill <= KILLS; kill++) {
      const victim = await leader();
      const follower = [0, 1, 2].find((i) => i !== victim)!;
      const rv = Number(JSON.parse((await clients[victim]!.request('GET', `/api/v1/namespaces/${NAMESPACE}/configmaps?limit=1`)).body).metadata.resourceVersion);
      openWatch(`kill ${kill}: opened on the leader`, victim, rv);
      openWatch(`kill ${kill}: opened on a follower`, follower, rv);
      await new Promise((r) => setTimeout(r, 1500));

      const killedAt = Date.now();
      alive[victim] = false;
      servers[victim]!.process.kill('SIGKILL');
      const failover = await eventually(async () => {
        const first = acks.filter((ack) => ack.startedAt > killedAt && ack.replica !== victim).sort((a, b) => a.ackedAt - b.ackedAt)[0];
        assert.ok(first, 'a write through a survivor succeeded');
        return first.ackedAt - killedAt;
      }, 15_000);
      failovers.push(failover);
      process.stdout.write(`# failover ${kill}: replica ${victim} killed; first write acknowledged through a survivor after ${failover} ms\n`);

      // kubectl through a surviving follower and through the new leader.
      const newLeader = await leader();
      const survivorFollower = [0, 1, 2].find((i) => alive[i] && i !== newLeader)!;
      const created = await kubectl(survivorFollower, ['create', 'configmap', `kubectl-${kill}`, '-n', NAMESPACE, `--from-literal=value=${SECRET}-kubectl-${kill}`, '-o', 'jsonpath={.metadata.resourceVersion}']);
      acks.push({ name: `kubectl-${kill}`, revision: Number(created), value: `${SECRET}-kubectl-${kill}`, writer: -1, replica: survivorFollower, startedAt: Date.now(), ackedAt: Date.now() });
      assert.match(await kubectl(newLeader, ['get', 'configmap', `kubectl-${kill}`, '-n', NAMESPACE, '-o', 'name']), /kubectl-/);
      assert.match(await kubectl(survivorFollower, ['get', 'configmaps', '-n', NAMESPACE, '-l', `writer=${LABEL}`, '--chunk-size=50']), /w0-0/);

      // The killed replica comes back, as a follower.
      await startReplica(victim);
      assert.equal(await isLeader(victim), false, 'the restarted replica follows');
    }

    // A leader frozen past its lease (SIGSTOP) is replaced; woken, it follows and writes nothing.
    const frozen = await leader();
    const pausedAt = Date.now();
    alive[frozen] = false;
    servers[frozen]!.process.kill('SIGSTOP');
    const replacement = await eventually(async () => {
      const live = [0, 1, 2].filter((i) => i !== frozen);
      const flags = await Promise.all(live.map((i) => isLeader(i)));
      assert.ok(flags.some(Boolean), 'a new leader while the old one is frozen');
      return live[flags.indexOf(true)]!;
    }, 15_000);
    process.stdout.write(`# a frozen leader (replica ${frozen}) was replaced by replica ${replacement} after ${Date.now() - pausedAt} ms (its lease TTL)\n`);
    servers[frozen]!.process.kill('SIGCONT');
    alive[frozen] = true;
    await eventually(async () => assert.equal(await isLeader(frozen), false, 'the woken replica has stepped down'));
    await new Promise((r) => setTimeout(r, 1000));

    writing = false;
    await Promise.all(writers);
    process.stdout.write(`# ${acks.length} writes acknowledged; refused or failed (retried): ${JSON.stringify(refusals)}\n`);
    assert.deepEqual(unexpected, [], 'a write is refused only with a retriable status (503, 504)');

    // No revision used twice, none going backwards for a writer.
    const revisions = acks.map((ack) => ack.revision);
    assert.equal(new Set(revisions).size, revisions.length, 'every acknowledged write has its own revision');
    for (let k = 0; k < WRITERS; k++) {
      const mine = acks.filter((ack) => ack.writer === k).map((ack) => ack.revision);
      assert.deepEqual(mine, [...mine].sort((a, b) => a - b), `writer ${k}'s revisions only go forward`);
      assert.ok(mine.length > 20, `writer ${k} kept writing (${mine.length})`);
    }

    // Every replica converges to the same objects, holding every acknowledged write.
    const views = await Promise.all([0, 1, 2].map((i) => eventually(async () => {
      const answer = await clients[i]!.request('GET', `/api/v1/namespaces/${NAMESPACE}/configmaps`, undefined, 10_000);
      assert.equal(answer.status, 200);
      const items = JSON.parse(answer.body).items as Array<{ metadata: { name: string; resourceVersion: string }; data: { value: string } }>;
      return new Map(items.map((item) => [item.metadata.name, `${item.metadata.resourceVersion}:${item.data.value}`]));
    })));
    assert.deepEqual([...views[1]!].sort(), [...views[0]!].sort(), 'replicas 0 and 1 hold the same objects');
    assert.deepEqual([...views[2]!].sort(), [...views[0]!].sort(), 'replicas 0 and 2 hold the same objects');
    for (const ack of acks) assert.equal(views[0]!.get(ack.name), `${ack.revision}:${ack.value}`, `acknowledged write ${ack.name} is kept, as acknowledged`);

    // Watches: each saw, in revision order and once, every acknowledged write after it opened; none got 410.
    for (const watch of watches) {
      await eventually(async () => {
        const seen = new Set(watch.events.map((event) => event.name));
        const expected = acks.filter((ack) => ack.revision > watch.from).map((ack) => ack.name);
        const missingNames = expected.filter((name) => !seen.has(name));
        assert.deepEqual(missingNames.slice(0, 5), [], `${watch.label}: saw every later write (${missingNames.length} missing)`);
      }, 15_000);
      watch.stop();
      assert.deepEqual(watch.errors, [], `${watch.label}: no ERROR (410) event`);
      const order = watch.events.map((event) => event.revision);
      assert.deepEqual(order, [...order].sort((a, b) => a - b), `${watch.label}: revisions only go forward`);
      assert.equal(new Set(order).size, order.length, `${watch.label}: no event twice`);
    }
    assert.ok(watches.filter((watch) => watch.label.includes('on the leader')).every((watch) => watch.resumes >= 1), 'the watches on killed leaders resumed elsewhere');

    for (const [i, failover] of failovers.entries()) assert.ok(failover < 1000, `failover ${i + 1} took ${failover} ms`);

    // etcd holds ciphertext only, and snapshots bounded its log.
    const dump = (await etcd.etcdctl(['get', '', '--prefix'])).toString('latin1');
    for (const plaintext of [NAMESPACE, LABEL, SECRET, 'w0-0', 'kubectl-1', 'configmaps', 'kube-system']) {
      assert.ok(!dump.includes(plaintext), `etcd must not hold ${JSON.stringify(plaintext)} in plaintext`);
    }
    const logKeys = (await etcd.etcdctl(['get', '/nautilus/log/', '--prefix', '--keys-only'])).toString().split('\n').filter(Boolean);
    const newest = Math.max(...revisions);
    assert.ok(logKeys.length < newest / 2, `snapshots deleted the records they cover (${logKeys.length} records left for ${newest} revisions)`);
  });

  it('lets a replica join by attestation; one not running the attested build, or without the key, reads nothing', async () => {
    const source = [0, 1, 2].find((i) => alive[i])!;
    // Simulated TEEs on one machine share the simulated vendor root, kept in each data directory.
    const sharedRoot = async (dir: string) => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      for (const file of ['simulated-nitro-root.pem', 'simulated-nitro-root.key.pem']) await copyFile(join(dirs[source]!, file), join(dir, file));
    };

    const joinedDir = join(base, 'joined');
    await sharedRoot(joinedDir);
    const joined = await startServer(['--storage', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--tee', 'simulated', '--join', urlOf(source)], joinedDir);
    try {
      const client = new ReplicaClient(joined.url, tls);
      const answer = await client.request('GET', `/api/v1/namespaces/${NAMESPACE}/configmaps/kubectl-1`);
      assert.equal(answer.status, 200, 'the joined replica serves the cluster state to the one admin credential');
      assert.match(answer.body, new RegExp(`${SECRET}-kubectl-1`));
      client.close();
      assert.equal(existsSync(join(joinedDir, 'data.key')), false, 'the released data key stays in memory');
      for (const file of ['ca.crt', 'sa.key.sealed']) {
        assert.deepEqual(await readFile(join(joinedDir, 'pki', file)), await readFile(join(dirs[source]!, 'pki', file)), `the cluster's ${file} was released`);
      }
    } finally {
      await joined.stop('SIGTERM');
    }

    // Not the attested build: the same code with one byte more, so its PCR0 differs.
    const build = join(base, 'other-build');
    const distSrc = fileURLToPath(new URL('../../src', import.meta.url));
    await cp(distSrc, join(build, 'dist', 'src'), { recursive: true });
    await appendFile(join(build, 'dist', 'src', 'cli', 'serve.js'), '\n// a different build\n');
    await symlink(join(dirname(dirname(distSrc)), 'node_modules'), join(build, 'node_modules'));
    const impostorDir = join(base, 'impostor');
    await sharedRoot(impostorDir);
    const impostor = await runToExit(join(build, 'dist', 'src', 'cli', 'main.js'), ['serve', '--port', '0', '--data-dir', impostorDir, '--storage', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--tee', 'simulated', '--join', urlOf(source)]);
    assert.notEqual(impostor.code, 0);
    assert.match(impostor.stderr, /join refused: .*PCR0/);

    // No key at all (a fresh data.key of its own): it reaches etcd, and opens nothing there.
    const keyless = await runToExit(fileURLToPath(new URL('../../src/cli/main.js', import.meta.url)), ['serve', '--port', '0', '--data-dir', join(base, 'keyless'), '--storage', 'etcd', '--etcd-endpoints', etcd.endpoints.join(',')]);
    assert.notEqual(keyless.code, 0);
    assert.match(keyless.stderr, /wrong data key: etcd holds the state of a cluster sealed with another data key/);
    assert.ok((await stat(join(base, 'keyless', 'data.key'))).isFile());
  });
});

function runToExit(main: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stderr });
    });
  });
}
