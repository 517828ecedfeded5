/**
 * Real kubectl as the independent protobuf implementation: a small HTTPS server decodes what kubectl sends,
 * answers with our protobuf encoding, and kubectl's `-o json` shows how it read our bytes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCa, issueCertificate } from '../../../src/auth/pki.js';
import { decodeKubernetesProtobuf, isKubernetesProtobuf } from '../../../src/api/protobuf/decode.js';
import { encodeKubernetesProtobuf } from '../../../src/api/protobuf/encode.js';

const KUBECTL = '/usr/bin/kubectl';

const DISCOVERY: Record<string, unknown> = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: ['apps/v1', 'batch/v1', 'authorization.k8s.io/v1'].map((groupVersion) => {
      const [name, version] = groupVersion.split('/');
      return { name, versions: [{ groupVersion, version }], preferredVersion: { groupVersion, version } };
    }),
  },
  '/api/v1': resources('v1', [['secrets', 'Secret', true], ['services', 'Service', true]]),
  '/apis/apps/v1': resources('apps/v1', [['deployments', 'Deployment', true]]),
  '/apis/batch/v1': resources('batch/v1', [['cronjobs', 'CronJob', true]]),
  '/apis/authorization.k8s.io/v1': resources('authorization.k8s.io/v1', [['selfsubjectaccessreviews', 'SelfSubjectAccessReview', false]]),
};

function resources(groupVersion: string, list: [string, string, boolean][]): unknown {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: list.map(([name, kind, namespaced]) => ({ name, singularName: '', namespaced, kind, verbs: ['create', 'get', 'list'] })),
  };
}

/** What an API server adds on create, so the answer differs from the request in every value kind. */
function asCreated(object: Record<string, unknown>): Record<string, unknown> {
  const metadata = { ...(object.metadata as Record<string, unknown>), uid: 'c0ffee', resourceVersion: '42', generation: 1, creationTimestamp: '2024-05-06T07:08:09Z' };
  if (object.kind === 'SelfSubjectAccessReview') return { ...object, metadata, status: { allowed: true, reason: 'test says so' } };
  return { ...object, metadata };
}

describe('protobuf interoperability with kubectl', () => {
  let server: https.Server;
  let dir: string;
  let kubeconfig: string;
  let answered: Record<string, unknown>[] = [];

  before(async () => {
    const ca = await createCa('protobuf-test-ca');
    const tls = await issueCertificate(ca, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], usage: 'server', validDays: 1 });
    server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0];
        if (req.method === 'POST' && isKubernetesProtobuf(req.headers['content-type'])) {
          const created = asCreated(decodeKubernetesProtobuf(Buffer.concat(chunks)));
          answered.push(created);
          res.writeHead(201, { 'content-type': 'application/vnd.kubernetes.protobuf' });
          res.end(encodeKubernetesProtobuf(created));
        } else if (req.method === 'GET' && Object.hasOwn(DISCOVERY, path)) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(DISCOVERY[path]));
        } else {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: `${req.method} ${path}` }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dir = await mkdtemp(join(tmpdir(), 'nautilus-protobuf-'));
    kubeconfig = join(dir, 'kubeconfig');
    const { port } = server.address() as AddressInfo;
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': Buffer.from(ca.certPem).toString('base64') } }],
        users: [{ name: 'u', user: { token: 'test' } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u', namespace: 'default' } }],
        'current-context': 'c',
      }),
    );
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  function kubectl(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(KUBECTL, args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir }, timeout: 30_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(' ')}: ${stderr || error.message}`));
        else resolve(stdout);
      });
    });
  }

  /** Go prints nil values as null; our JSON form leaves them out. */
  function withoutNulls(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutNulls);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
    }
    return value;
  }

  const commands: [string, string[]][] = [
    ['deployment with zero replicas', ['create', 'deployment', 'web', '--image=nginx', '--replicas=0', '--port=80']],
    ['secret with binary-safe data', ['create', 'secret', 'generic', 'sec', '--from-literal=key=v@l/ue+=']],
    ['service with int and named target ports', ['create', 'service', 'clusterip', 'svc', '--tcp=80:8080', '--tcp=443:https']],
    ['cronjob with nested templates', ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure']],
  ];

  for (const [what, args] of commands) {
    it(`${what}: kubectl reads back exactly the object we encoded`, async () => {
      answered = [];
      const printed = JSON.parse(await kubectl([...args, '--validate=false', '-o', 'json']));
      assert.equal(answered.length, 1);
      assert.deepEqual(withoutNulls(printed), answered[0]);
    });
  }

  it('auth can-i: kubectl reads status.allowed from our encoding', async () => {
    answered = [];
    assert.equal((await kubectl(['auth', 'can-i', 'get', 'pods'])).trim(), 'yes');
    assert.deepEqual((answered[0].spec as Record<string, unknown>).resourceAttributes, { namespace: 'default', verb: 'get', resource: 'pods' });
  });
});
