/**
 * The kubelet streams with each kubectl generation's protocol, against `serve --virtual-nodes 2`:
 * port-forward as SPDY tunnelled in a WebSocket (kubectl 1.31+, KEP-4006) and as plain SPDY/3.1
 * (1.29), to pods, services and deployments, bytes echoed by the agent; exec over SPDY (1.27,
 * 1.29) with output, exit codes and stdin; exec -it in a pseudo-terminal (its size, CR LF); attach
 * -i over WebSocket and SPDY; `kubectl cp` of projected files out of a pod and of
 * local files into its writable overlay (tar in the built-in shell); and the `create` check
 * upstream adds to WebSocket upgrades of pods/exec, attach and portforward.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { connect as tlsConnect } from 'node:tls';
import { startServer, KUBECTL, KUBECTL_OLDEST, type TestServer } from './harness.js';

const KUBECTL_SPDY = '/usr/lib/google-cloud-sdk/bin/kubectl.1.29';

let server: TestServer;
before(async () => {
  server = await startServer(['--ephemeral', '--virtual-nodes', '2']);
  await server.ok(['create', 'deployment', 'echo', '--image=nginx', '--port=8080', '--replicas=1']);
  await server.ok(['expose', 'deployment', 'echo', '--port=80', '--target-port=8080']);
  await server.ok(['run', 'web', '--image=nginx', '--port=8080']);
  await server.ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=30s']);
  await server.ok(['rollout', 'status', 'deployment/echo', '--timeout=30s']);
});
after(async () => {
  await server?.stop();
});

/** Starts `kubectl port-forward TARGET 0:PORT` and resolves with the local port it listens on. */
function portForward(binary: string, target: string, remotePort: number, verbose: boolean): Promise<{ port: number; podPort: number; child: ChildProcess; stderr: () => string }> {
  const child = spawn(binary, ['port-forward', target, `0:${remotePort}`, ...(verbose ? ['-v=4'] : [])], { env: { ...process.env, KUBECONFIG: server.kubeconfig, HOME: server.dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`port-forward did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const match = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), podPort: Number(match[2]), child, stderr: () => stderr });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`port-forward exited ${code}: ${stderr}`));
    });
  });
}

/** Sends `payload` over a fresh connection to the local port and resolves with what came back before the far end closed. */
function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      // All of it echoed: half-close, as a client done sending does; the forward then ends.
      if (received >= payload.length) socket.end();
    });
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

async function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

for (const [label, binary, tunnel] of [['kubectl 1.32 (SPDY in a WebSocket)', KUBECTL, true], ['kubectl 1.29 (SPDY/3.1)', KUBECTL_SPDY, false]] as const) {
  test(`port-forward with ${label}: a pod, a service and a deployment echo what they get`, async () => {
    for (const [target, remote] of [['pod/web', 8080], ['svc/echo', 80], ['deployment/echo', 8080]] as const) {
      const forward = await portForward(binary, target, remote, tunnel);
      try {
        // kubectl resolved the service's port to the pod's targetPort.
        assert.equal(forward.podPort, 8080);
        const hello = Buffer.from(`hello ${target}\n`);
        assert.deepEqual(await roundTrip(forward.port, hello), hello, forward.stderr());
        // A second connection over the same forward (its own stream pair), and one large enough for many frames.
        const big = randomBytes(300 * 1024);
        const [small, large] = await Promise.all([roundTrip(forward.port, Buffer.from('again')), roundTrip(forward.port, big)]);
        assert.equal(small.toString(), 'again');
        assert.ok(large.equals(big), `echoed ${large.length} of ${big.length} bytes`);
        assert.doesNotMatch(forward.stderr(), /lost connection|error occurred|fallback/i);
        // The WebSocket tunnel was taken, not the SPDY fallback (client-go logs both at -v=4).
        if (tunnel) assert.match(forward.stderr(), /negotiated protocol: portforward\.k8s\.io/);
      } finally {
        await stopped(forward.child);
      }
    }
  });
}

test('exec over SPDY (kubectl 1.27 and 1.29): output, exit codes and stdin', async () => {
  for (const binary of [KUBECTL_OLDEST, KUBECTL_SPDY]) {
    assert.equal(await server.ok(['exec', 'web', '--', 'echo', 'hi'], { binary }), 'hi\n');
    const failed = await server.kubectl(['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { binary });
    assert.equal(failed.code, 3, failed.stderr);
    assert.match(failed.stdout, /^out\n/);
    assert.match(failed.stderr, /command terminated with exit code 3/);
    assert.equal(await server.ok(['exec', '-i', 'web', '--', 'cat'], { binary, input: 'through SPDY stdin\n' }), 'through SPDY stdin\n');
    const missing = await server.kubectl(['exec', 'web', '--', 'frobnicate'], { binary });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /executable file not found/);
  }
});

/** Runs kubectl inside a pseudo-terminal of `columns` x `rows` (util-linux `script`), as a user at a terminal would; resolves with what the terminal showed. */
function kubectlInTerminal(binary: string, args: string[], columns: number, rows: number): Promise<string> {
  const quoted = [binary, ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', `stty cols ${columns} rows ${rows}; ${quoted}`, '/dev/null'], { env: { ...process.env, KUBECONFIG: server.kubeconfig, HOME: server.dataDir }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubectl in a terminal did not finish: ${output}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`kubectl in a terminal exited ${code}: ${output}`));
    });
  });
}

test('exec -it: the terminal size reaches the container (stty size, tput) and output lines end in CR LF, over WebSocket (1.32) and SPDY (1.27)', async () => {
  for (const binary of [KUBECTL, KUBECTL_OLDEST]) {
    assert.match(await kubectlInTerminal(binary, ['exec', '-it', 'web', '--', 'stty', 'size'], 123, 45), /^45 123\r\n/, binary);
    assert.match(await kubectlInTerminal(binary, ['exec', '-it', 'web', '--', 'sh', '-c', 'tput cols; tput lines'], 97, 31), /^97\r\n31\r\n/, binary);
  }
  // Without a TTY there is no terminal to ask, and newlines stay as they are.
  const plain = await server.kubectl(['exec', 'web', '--', 'sh', '-c', 'echo a; stty size']);
  assert.equal(plain.stdout, 'a\n');
  assert.match(plain.stderr, /stty: standard input: Not a tty/);
});

test('kubectl attach -i: the main process keeps writing its log lines and echoes stdin, over WebSocket (1.32) and SPDY (1.27)', async () => {
  for (const binary of [KUBECTL, KUBECTL_OLDEST]) {
    const child = spawn(binary, ['attach', '-i', 'web'], { env: { ...process.env, KUBECONFIG: server.kubeconfig, HOME: server.dataDir }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    try {
      const seen = (what: (out: string) => boolean, label: string) =>
        new Promise<void>((resolve, reject) => {
          const started = Date.now();
          const check = setInterval(() => {
            if (what(stdout)) {
              clearInterval(check);
              resolve();
            } else if (Date.now() - started > 20_000 || child.exitCode !== null) {
              clearInterval(check);
              reject(new Error(`${binary}: no ${label}; stdout ${JSON.stringify(stdout)}, stderr ${stderr}`));
            }
          }, 100);
        });
      // A line the container writes after attaching is a line of its log.
      await seen((out) => out.split('\n').length > 2, 'output');
      const attachedLine = stdout.split('\n')[1];
      assert.ok((await server.ok(['logs', 'web'])).split('\n').includes(attachedLine), `${binary}: ${attachedLine} is not in the log`);
      child.stdin!.write('attach-ping\n');
      await seen((out) => out.includes('attach-ping\n'), 'echo of stdin');
    } finally {
      child.kill('SIGTERM');
    }
  }
});

test('kubectl cp: projected files out of a pod, local files into it (kubectl 1.32 over WebSocket, 1.27 over SPDY)', async () => {
  await server.ok(['apply', '-f', '-'], {
    input: `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {key: "value from a configmap", other: "second"}
---
apiVersion: v1
kind: Pod
metadata: {name: files}
spec:
  containers:
  - name: app
    image: busybox
    volumeMounts: [{name: settings, mountPath: /etc/config}]
  volumes: [{name: settings, configMap: {name: settings}}]
`,
  });
  await server.ok(['wait', '--for=condition=Ready', 'pod/files', '--timeout=30s']);
  const local = await mkdtemp(join(tmpdir(), 'nautilus-cp-'));
  try {
    for (const binary of [KUBECTL, KUBECTL_OLDEST]) {
      const out = join(local, `key-${binary.length}`);
      await server.ok(['cp', 'default/files:/etc/config/key', out], { binary });
      assert.equal(await readFile(out, 'utf8'), 'value from a configmap');
      const dir = join(local, `config-${binary.length}`);
      await server.ok(['cp', 'files:/etc/config', dir], { binary });
      assert.deepEqual((await readdir(dir)).sort(), ['key', 'other']);
      assert.equal(await readFile(join(dir, 'other'), 'utf8'), 'second');

      const upload = join(local, 'upload.txt');
      await writeFile(upload, `uploaded by ${binary}\n`);
      await server.ok(['cp', upload, `files:/tmp/uploaded-${binary.length}.txt`], { binary });
      assert.equal(await server.ok(['exec', 'files', '--', 'cat', `/tmp/uploaded-${binary.length}.txt`]), `uploaded by ${binary}\n`);
      // Into a directory: kubectl asks `test -d` first and keeps the file's name.
      await server.ok(['cp', upload, 'files:/tmp'], { binary });
      assert.match(await server.ok(['exec', 'files', '--', 'ls', '/tmp']), /^upload\.txt$/m);
    }
    // The configMap volume is mounted read-only, as the kubelet mounts it.
    const readOnly = await server.kubectl(['cp', join(local, 'upload.txt'), 'files:/etc/config/key']);
    assert.notEqual(readOnly.code, 0);
    assert.match(readOnly.stderr + readOnly.stdout, /Read-only file system/);
    assert.equal(await server.ok(['exec', 'files', '--', 'cat', '/etc/config/key']), 'value from a configmap');
  } finally {
    await rm(local, { recursive: true, force: true });
  }
});

/** A raw WebSocket upgrade as `user` (impersonated by the admin): the HTTP status and body of a refusal, or 101. */
async function webSocketAs(user: string, path: string, protocol: string): Promise<{ status: number; body: string }> {
  const config = parse(await readFile(server.kubeconfig, 'utf8'));
  const b64 = (s: string) => Buffer.from(s, 'base64');
  const credentials = config.users[0].user;
  const url = new URL(server.url);
  // By hand: the `ws` client refuses subprotocols with a '/', which the SPDY tunnel's has.
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: b64(config.clusters[0].cluster['certificate-authority-data']), cert: b64(credentials['client-certificate-data']), key: b64(credentials['client-key-data']), ALPNProtocols: ['http/1.1'] }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Protocol: ${protocol}\r\nImpersonate-User: ${user}\r\n\r\n`);
    });
    let received = Buffer.alloc(0);
    const settle = () => {
      const text = received.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (status !== 101 && Buffer.byteLength(text.slice(end + 4)) < length) return false;
      socket.destroy();
      resolve({ status, body: status === 101 ? '' : text.slice(end + 4) });
      return true;
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      settle();
    });
    socket.on('end', () => settle() || reject(new Error(`no response: ${received.toString()}`)));
    socket.on('error', reject);
  });
}

test('WebSocket exec, attach and portforward need create as well as get (upstream 1.35 AuthorizePodWebsocketUpgradeCreatePermission)', async () => {
  await server.ok(['create', 'role', 'stream-get', '--verb=get', '--resource=pods,pods/exec,pods/attach,pods/portforward']);
  await server.ok(['create', 'rolebinding', 'stream-get', '--role=stream-get', '--user=eve']);
  const exec = '/api/v1/namespaces/default/pods/web/exec?command=echo&command=hi&stdout=true';
  const refused = await webSocketAs('eve', exec, 'v5.channel.k8s.io');
  assert.equal(refused.status, 403);
  const status = JSON.parse(refused.body);
  assert.equal(status.reason, 'Forbidden');
  assert.match(status.message, /^pods "web" is forbidden/);
  assert.deepEqual(status.details, { name: 'web', kind: 'pods' });
  assert.equal((await webSocketAs('eve', '/api/v1/namespaces/default/pods/web/attach?stdout=true', 'v5.channel.k8s.io')).status, 403);
  assert.equal((await webSocketAs('eve', '/api/v1/namespaces/default/pods/web/portforward', 'SPDY/3.1+portforward.k8s.io')).status, 403);
  // kubectl itself (WebSocket, then its SPDY fallback, a create) is refused too.
  const viaKubectl = await server.kubectl(['exec', '--as=eve', 'web', '--', 'echo', 'hi']);
  assert.notEqual(viaKubectl.code, 0);
  assert.match(viaKubectl.stderr, /forbidden/);

  await server.ok(['create', 'role', 'stream-create', '--verb=create', '--resource=pods/exec,pods/portforward']);
  await server.ok(['create', 'rolebinding', 'stream-create', '--role=stream-create', '--user=eve']);
  assert.equal((await webSocketAs('eve', exec, 'v5.channel.k8s.io')).status, 101);
  assert.equal((await webSocketAs('eve', '/api/v1/namespaces/default/pods/web/portforward', 'SPDY/3.1+portforward.k8s.io')).status, 101);
  assert.equal(await server.ok(['exec', '--as=eve', 'web', '--', 'echo', 'hi']), 'hi\n');
  // attach got no create: still refused.
  assert.equal((await webSocketAs('eve', '/api/v1/namespaces/default/pods/web/attach?stdout=true', 'v5.channel.k8s.io')).status, 403);
});
