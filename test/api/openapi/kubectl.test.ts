/**
 * Drives real kubectl binaries against a tiny HTTP server on 127.0.0.1 that serves only the
 * OpenAPI handler, minimal discovery, and an echo for writes: client-side validation, explain
 * and apply must work from our documents alone.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createOpenApi, type ServedResource } from '../../../src/api/openapi/index.js';
import { SERVED, realisticDeployment } from './fixtures.js';

const KUBECTLS = [
  '/usr/lib/google-cloud-sdk/bin/kubectl.1.27',
  '/usr/bin/kubectl',
  '/usr/lib/google-cloud-sdk/bin/kubectl.1.33',
].filter((file) => existsSync(file));

interface Recorded {
  method: string;
  url: string;
  contentType: string;
  body: string;
}

const recorded: Recorded[] = [];
/** Objects the fake server returns on GET, keyed by request path. */
const stored = new Map<string, Record<string, unknown>>();
let workDir = '';

function resourceList(group: string, version: string, resources: ServedResource[]) {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: resources.flatMap((r) => [
      { name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: r.verbs },
      ...r.subresources.map((s) => ({ name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] })),
    ]),
  };
}

function discovery(url: string): unknown {
  const groups = [...new Set(SERVED.filter((r) => r.group !== '').map((r) => r.group))];
  if (url === '/version') return { major: '1', minor: '34', gitVersion: 'v1.34.0', platform: 'linux/amd64' };
  if (url === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
  if (url === '/apis') {
    return {
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: groups.map((name) => {
        const version = SERVED.find((r) => r.group === name)!.version;
        const gv = { groupVersion: `${name}/${version}`, version };
        return { name, versions: [gv], preferredVersion: gv };
      }),
    };
  }
  if (url === '/api/v1') return resourceList('', 'v1', SERVED.filter((r) => r.group === ''));
  for (const group of groups) {
    const version = SERVED.find((r) => r.group === group)!.version;
    if (url === `/apis/${group}/${version}`) return resourceList(group, version, SERVED.filter((r) => r.group === group));
  }
  return undefined;
}

function startServer(advertiseFieldValidation: boolean): Promise<{ server: http.Server; url: string }> {
  const openApi = createOpenApi(SERVED, { advertiseFieldValidation });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = openApi.handle(url.pathname, url.searchParams, {
        accept: req.headers.accept, ifNoneMatch: req.headers['if-none-match'],
      });
      if (answer) {
        res.writeHead(answer.status, answer.headers).end(answer.body);
        return;
      }
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
      const found = req.method === 'GET' ? discovery(url.pathname) ?? stored.get(url.pathname) : undefined;
      if (found) return json(200, found);
      if (req.method === 'GET') {
        return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
      }
      recorded.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] ?? '', body });
      // Writes echo what the server would store; a PATCH echoes the stored object.
      if (req.method === 'PATCH') return json(200, stored.get(url.pathname) ?? {});
      return json(201, JSON.parse(body));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  }));
}

let servers: http.Server[] = [];
/** Serves documents without the fieldValidation parameter: kubectl validates client-side. */
let clientSideUrl = '';
/** Serves documents advertising fieldValidation: kubectl leaves validation to the server. */
let serverSideUrl = '';

before(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'nautilus-openapi-kubectl-'));
  const clientSide = await startServer(false);
  const serverSide = await startServer(true);
  servers = [clientSide.server, serverSide.server];
  clientSideUrl = clientSide.url;
  serverSideUrl = serverSide.url;
});

after(() => {
  for (const server of servers) server.close();
  rmSync(workDir, { recursive: true, force: true });
});

function kubectl(binary: string, args: string[], serverUrl = clientSideUrl): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = path.join(workDir, `${path.basename(binary)}-${new URL(serverUrl).port}`);
  const kubeconfig = path.join(workDir, 'kubeconfig');
  writeFileSync(kubeconfig, '');
  return new Promise((resolve) => {
    execFile(binary, [`--server=${serverUrl}`, ...args], {
      timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: kubeconfig },
    }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function manifest(name: string, object: unknown): string {
  const file = path.join(workDir, name);
  writeFileSync(file, JSON.stringify(object));
  return file;
}

for (const binary of KUBECTLS) {
  const version = path.basename(binary);

  test(`${version}: create rejects an unknown field with the upstream client-side message`, async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
      spec: { foo: 1, containers: [{ name: 'c', image: 'nginx', bogus: true }] } };
    const result = await kubectl(binary, ['create', '-f', manifest(`bad-pod-${version}.json`, pod)]);
    assert.notEqual(result.code, 0, result.stdout);
    assert.match(result.stderr, /ValidationError\(Pod\.spec\): unknown field "foo" in io\.k8s\.api\.core\.v1\.PodSpec/);
    assert.match(result.stderr, /ValidationError\(Pod\.spec\.containers\[0\]\): unknown field "bogus" in io\.k8s\.api\.core\.v1\.Container/);
  });

  test(`${version}: create accepts a realistic Deployment and posts it`, async () => {
    const before = recorded.length;
    const result = await kubectl(binary, ['create', '-f', manifest(`deployment-${version}.json`, realisticDeployment())]);
    assert.equal(result.code, 0, result.stderr);
    const post = recorded.slice(before).find((r) => r.method === 'POST');
    assert.ok(post, 'kubectl sent no POST');
    assert.match(post.url, /^\/apis\/apps\/v1\/namespaces\/shop\/deployments/);
  });

  test(`${version}: explain reads field descriptions`, async () => {
    const result = await kubectl(binary, ['explain', 'pod.spec.containers']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /List of containers belonging to the pod/);
    assert.match(result.stdout, /volumeMounts/);
    const deployment = await kubectl(binary, ['explain', 'deployments.spec.strategy']);
    assert.equal(deployment.code, 0, deployment.stderr);
    assert.match(deployment.stdout, /rollingUpdate/);
  });

  test(`${version}: apply sends a strategic merge patch keyed by container name`, async () => {
    const desired = realisticDeployment();
    const previous = structuredClone(desired) as { metadata: { annotations: Record<string, string> } };
    previous.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = JSON.stringify(desired);
    stored.set('/apis/apps/v1/namespaces/shop/deployments/web', previous as unknown as Record<string, unknown>);
    const changed = structuredClone(desired) as any;
    changed.spec.template.spec.containers[0].image = 'registry.example/web:2.0.0';
    const before = recorded.length;
    const result = await kubectl(binary, ['apply', '-f', manifest(`apply-${version}.json`, changed)]);
    assert.equal(result.code, 0, result.stderr);
    const patch = recorded.slice(before).find((r) => r.method === 'PATCH');
    assert.ok(patch, 'kubectl sent no PATCH');
    assert.equal(patch.contentType, 'application/strategic-merge-patch+json');
    const body = JSON.parse(patch.body);
    assert.deepEqual(body.spec.template.spec.containers, [{ name: 'web', image: 'registry.example/web:2.0.0' }]);
    assert.deepEqual(body.spec.template.spec['$setElementOrder/containers'], [{ name: 'web' }]);
  });

  test(`${version}: with fieldValidation advertised, create leaves validation to the server`, async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' },
      spec: { foo: 1, containers: [{ name: 'c', image: 'nginx' }] } };
    const before = recorded.length;
    const result = await kubectl(binary, ['create', '-f', manifest(`server-side-${version}.json`, pod)], serverSideUrl);
    assert.equal(result.code, 0, result.stderr);
    const post = recorded.slice(before).find((r) => r.method === 'POST');
    assert.ok(post, 'kubectl sent no POST');
    assert.equal(new URL(post.url, 'http://x').searchParams.get('fieldValidation'), 'Strict');
  });
}
