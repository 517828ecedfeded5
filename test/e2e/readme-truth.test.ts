/**
 * The README tells the truth: the manifest its quick start applies exists and applies; the
 * Containerfile serves on 0.0.0.0 with a writable /data volume as a non-root user, its README
 * section shows the build and run commands, and its CMD, run here, serves (in a private network
 * namespace, so binding 0.0.0.0:6443 touches no interface of the shared machine).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, KUBECTL, startServer } from './harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const readme = () => readFile(join(ROOT, 'README.md'), 'utf8');

test('every manifest the README applies with -f exists, and the quick-start one applies', { timeout: 90_000 }, async () => {
  const text = await readme();
  const files = [...text.matchAll(/kubectl [^\n`]*?-f (\S+\.ya?ml)/g)].map((match) => match[1]!);
  assert.ok(files.includes('examples/my-app.yaml'), `the quick start applies examples/my-app.yaml (found ${files.join(', ')})`);
  for (const file of files) assert.ok(existsSync(join(ROOT, file)), `${file} named in the README exists`);

  const server = await startServer();
  try {
    const applied = await server.ok(['apply', '--server-side', '-f', join(ROOT, 'examples/my-app.yaml')]);
    assert.match(applied, /namespace\/my-app serverside-applied/);
    assert.match(applied, /deployment.apps\/web serverside-applied/);
    await server.ok(['apply', '--server-side', '-f', join(ROOT, 'examples/my-app.yaml')]);
    assert.match(await server.ok(['get', 'deployment', 'web', '-n', 'my-app', '-o', 'jsonpath={.spec.replicas}']), /^2$/);
    await eventually(async () => assert.match(await server.ok(['get', 'pods', '-n', 'my-app', '-l', 'app=web', '-o', 'name']), /pod\/web-/), 20_000);
  } finally {
    await server.stop();
  }
});

interface ContainerImage {
  entrypoint: string[];
  cmd: string[];
  lines: string[];
}

async function finalStage(): Promise<ContainerImage> {
  const text = await readFile(join(ROOT, 'Containerfile'), 'utf8');
  const stages = text.split(/^FROM /m);
  const lines = stages.at(-1)!.split('\n').map((line) => line.trim());
  const json = (instruction: string) => JSON.parse(lines.find((line) => line.startsWith(`${instruction} `))!.slice(instruction.length + 1)) as string[];
  return { entrypoint: json('ENTRYPOINT'), cmd: json('CMD'), lines };
}

test('the Containerfile serves on 0.0.0.0 with a writable /data volume as a non-root user, and the README shows how to run it', async () => {
  const image = await finalStage();
  const flag = (name: string) => image.cmd[image.cmd.indexOf(name) + 1];
  assert.equal(image.cmd[0], 'serve');
  assert.equal(flag('--address'), '0.0.0.0');
  assert.equal(flag('--data-dir'), '/data');
  assert.ok(image.lines.includes('VOLUME ["/data"]'));
  assert.ok(image.lines.some((line) => line.startsWith('EXPOSE') && line.includes(flag('--port')!)));
  const chown = image.lines.findIndex((line) => /mkdir -p \/data && chown node:node \/data/.test(line));
  const user = image.lines.indexOf('USER node');
  assert.ok(chown >= 0 && user > chown, '/data is made writable for the user the server runs as');

  const text = await readme();
  const section = text.slice(text.indexOf('## Running it in a container'));
  assert.ok(section.length > 0 && text.includes('## Running it in a container'), 'the README has a container section');
  assert.match(section, /build -t nautilus -f Containerfile \./);
  assert.match(section, /run [^\n]*-p 6443:6443[^\n]*-v [^\s:]+:\/data[^\n]* nautilus/);
  assert.match(section, /\/data\/admin\.kubeconfig/);
});

const netnsWorks = spawnSync('unshare', ['-rn', 'sh', '-c', 'ip link set lo up']).status === 0;

test("the Containerfile's CMD serves on 0.0.0.0 (run here in a private network namespace)", { skip: !netnsWorks && 'user and network namespaces (unshare -rn) or ip(8) are not available', timeout: 90_000 }, async () => {
  const image = await finalStage();
  const dataDir = await mkdtemp(join(tmpdir(), 'nautilus-container-cmd-'));
  // The image's ENTRYPOINT is node with the built CLI; here the same CLI from this checkout.
  assert.deepEqual(image.entrypoint, ['node', '/app/dist/src/cli/main.js']);
  const args = image.cmd.map((arg) => (arg === '/data' ? dataDir : arg));
  const child = spawn('unshare', ['-rn', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk) => {
        out += chunk;
        if (out.includes('serving at')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the CMD exited ${code}: ${stderr}`)));
    });
    const port = Number(image.cmd[image.cmd.indexOf('--port') + 1]);
    // Listening on the wildcard address (00000000) of its namespace, state LISTEN (0A).
    const listening = await readFile(`/proc/${child.pid}/net/tcp`, 'utf8');
    assert.match(listening, new RegExp(`^\\s*\\d+: 00000000:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A `, 'm'));
    const kubectl = (kubectlArgs: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile('nsenter', ['-t', String(child.pid), '-U', '-n', '--preserve-credentials', '--', KUBECTL, '--kubeconfig', join(dataDir, 'admin.kubeconfig'), ...kubectlArgs], { env: { ...process.env, HOME: dataDir }, timeout: 30_000 }, (error, stdout, stderrText) =>
          error ? reject(new Error(`kubectl ${kubectlArgs.join(' ')}: ${stderrText}`)) : resolve(stdout),
        ),
      );
    assert.equal(await eventually(() => kubectl(['get', '--raw', '/readyz']), 20_000), 'ok');
    assert.match(await kubectl(['create', 'configmap', 'in-the-container']), /created/);
    assert.ok(existsSync(join(dataDir, 'wal')), 'the state went to the data dir');
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  }
});
