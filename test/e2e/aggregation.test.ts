/**
 * API aggregation end to end: an API server run by this test (HTTPS on 127.0.0.1, behind a
 * Service and its Endpoints) registered by an APIService; kubectl discovers and lists its
 * resources through Nautilus, which forwards the caller's identity in the front-proxy headers
 * with the front-proxy client certificate the extension-apiserver-authentication ConfigMap names.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { startServer, eventually, type TestServer } from './harness.js';
import { createCa, issueCertificate } from '../../src/auth/pki.js';

let server: TestServer;
let backend: Server;
const seen: Array<{ user?: string; groups?: string | string[]; clientCertificate?: string }> = [];

const RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'wardle.example.com/v1alpha1',
  resources: [{ name: 'flunders', singularName: 'flunder', namespaced: true, kind: 'Flunder', verbs: ['get', 'list'] }],
};

before(async () => {
  server = await startServer();
  const ca = await createCa('wardle-ca');
  const cert = await issueCertificate(ca, { commonName: 'api', dnsNames: ['api.wardle.svc'], usage: 'server', validDays: 1 });
  const authentication = JSON.parse(await server.ok(['get', 'configmap', 'extension-apiserver-authentication', '-n', 'kube-system', '-o', 'json'])).data;
  backend = createServer({ key: cert.keyPem, cert: cert.certPem, ca: authentication['requestheader-client-ca-file'], requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const authorized = (req.socket as TLSSocket).authorized;
    seen.push({ user: String(req.headers['x-remote-user'] ?? ''), groups: req.headers['x-remote-group'], clientCertificate: authorized ? String(peer.subject?.CN) : undefined });
    res.setHeader('content-type', 'application/json');
    if (req.url?.startsWith('/apis/wardle.example.com/v1alpha1/namespaces/default/flunders')) {
      res.end(JSON.stringify({ kind: 'FlunderList', apiVersion: 'wardle.example.com/v1alpha1', metadata: {}, items: [{ kind: 'Flunder', apiVersion: 'wardle.example.com/v1alpha1', metadata: { name: `for-${req.headers['x-remote-user']}`, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' } }] }));
    } else if (req.url?.startsWith('/apis/wardle.example.com/v1alpha1')) {
      res.end(JSON.stringify(RESOURCES));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const port = (backend.address() as AddressInfo).port;
  await server.ok(['create', 'namespace', 'wardle']);
  await server.ok(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'wardle' }, spec: { ports: [{ port: 443, targetPort: port }] } }) });
  await server.ok(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'api', namespace: 'wardle' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port }] }] }) });
  await server.ok(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1alpha1.wardle.example.com' },
      spec: { group: 'wardle.example.com', version: 'v1alpha1', service: { namespace: 'wardle', name: 'api' }, caBundle: Buffer.from(ca.certPem).toString('base64'), groupPriorityMinimum: 1000, versionPriority: 15 },
    }),
  });
});

after(async () => {
  backend?.close();
  await server?.stop();
});

test('built-in group-versions have Local APIServices', async () => {
  const out = await eventually(async () => {
    const text = await server.ok(['get', 'apiservices']);
    assert.match(text, /v1\.apps\s+Local\s+True/);
    return text;
  });
  assert.match(out, /^NAME\s+SERVICE\s+AVAILABLE\s+AGE\n/);
  assert.match(out, /v2\.autoscaling\s+Local\s+True/);
});

test('an aggregated API is available, discovered, and proxied with the front-proxy identity', async () => {
  await eventually(async () => {
    assert.match(await server.ok(['get', 'apiservice', 'v1alpha1.wardle.example.com']), /wardle\/api\s+True/);
  }, 30_000);
  await eventually(async () => {
    assert.match(await server.ok(['api-resources', '--api-group=wardle.example.com']), /flunders\s+wardle\.example\.com\/v1alpha1\s+true\s+Flunder/);
  }, 30_000);
  const names = await server.ok(['get', 'flunders', '-n', 'default', '-o', 'name']);
  const request = seen.find((s) => s.user && s.user !== 'system:kube-aggregator');
  assert.ok(request, JSON.stringify(seen));
  assert.equal(names.trim(), `flunder.wardle.example.com/for-${request.user}`);
  assert.equal(request.clientCertificate, 'front-proxy-client');
  assert.ok(([] as string[]).concat(request.groups ?? []).length > 0);
});
