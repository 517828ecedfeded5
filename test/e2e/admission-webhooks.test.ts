/**
 * Admission webhooks and ValidatingAdmissionPolicy end to end: webhooks served by this test over
 * HTTPS on 127.0.0.1 (one by URL, one through a Service and its Endpoints), the real kubectl.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startServer, eventually, type TestServer } from './harness.js';
import { createCa, issueCertificate } from '../../src/auth/pki.js';

interface Review {
  request: { uid: string; operation: string; object: { metadata: { name: string; labels?: Record<string, string> } } };
}

let server: TestServer;
let webhook: Server;
let port = 0;
let caBundle = '';
const calls: string[] = [];

before(async () => {
  server = await startServer();
  const ca = await createCa('webhook-test-ca');
  caBundle = Buffer.from(ca.certPem).toString('base64');
  const cert = await issueCertificate(ca, { commonName: 'webhook', dnsNames: ['webhook.default.svc'], ipAddresses: ['127.0.0.1'], usage: 'server', validDays: 1 });
  webhook = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Review;
      const { uid, object } = review.request;
      calls.push(`${req.url} ${object.metadata.name}`);
      let response: Record<string, unknown> = { uid, allowed: true };
      if (req.url === '/validate' && object.metadata.labels?.deny === 'true') {
        response = { uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: 'pods labelled deny=true are refused' } };
      } else if (req.url === '/mutate') {
        const patch = [{ op: 'add', path: '/metadata/labels/mutated', value: 'yes' }];
        response = { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64'), warnings: ['mutated by the test webhook'] };
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  port = (webhook.address() as AddressInfo).port;
  await server.ok(['create', 'namespace', 'hooked']);
  await server.ok(['label', 'namespace', 'hooked', 'webhooks=on']);
});

after(async () => {
  webhook?.close();
  await server?.stop();
});

const POD = (name: string, labels: Record<string, string> = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'hooked', labels: { app: 'x', ...labels } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });

function webhookConfiguration(kind: 'Validating' | 'Mutating', name: string, clientConfig: Record<string, unknown>, failurePolicy = 'Fail'): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: `${kind}WebhookConfiguration`,
    metadata: { name },
    webhooks: [{
      name: `${name}.example.com`,
      clientConfig: { caBundle, ...clientConfig },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      namespaceSelector: { matchLabels: { webhooks: 'on' } },
      failurePolicy,
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      timeoutSeconds: 5,
    }],
  });
}

test('a validating webhook refuses a pod; a mutating one, behind a Service, adds a label by JSONPatch', async () => {
  await server.ok(['apply', '-f', '-'], { input: webhookConfiguration('Validating', 'deny', { url: `https://127.0.0.1:${port}/validate` }) });
  const refused = await server.kubectl(['create', '-f', '-'], { input: POD('bad', { deny: 'true' }) });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /admission webhook "deny\.example\.com" denied the request: pods labelled deny=true are refused/);
  await server.ok(['create', '-f', '-'], { input: POD('good') });

  // The mutating webhook is reached through a selector-less Service and its Endpoints.
  await server.ok(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'webhook', namespace: 'default' }, spec: { ports: [{ name: 'https', port: 443, targetPort: port }] } }),
  });
  await server.ok(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'webhook', namespace: 'default' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port }] }] }),
  });
  await server.ok(['apply', '-f', '-'], { input: webhookConfiguration('Mutating', 'label', { service: { namespace: 'default', name: 'webhook', path: '/mutate', port: 443 } }) });
  const created = await server.kubectl(['create', '-f', '-'], { input: POD('labelled') });
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stderr, /Warning: mutated by the test webhook/);
  assert.equal(await server.ok(['get', 'pod', 'labelled', '-n', 'hooked', '-o', 'jsonpath={.metadata.labels.mutated}']), 'yes');
  // Pods outside the selected namespace are not sent.
  const before = calls.length;
  await server.ok(['run', 'elsewhere', '--image=nginx', '-n', 'default']);
  assert.equal(calls.length, before);
  await server.ok(['delete', 'mutatingwebhookconfiguration', 'label']);
  await server.ok(['delete', 'validatingwebhookconfiguration', 'deny']);
});

test('failurePolicy: Ignore admits when the webhook is down, Fail refuses', async () => {
  const down = 'https://127.0.0.1:1/validate';
  await server.ok(['apply', '-f', '-'], { input: webhookConfiguration('Validating', 'down', { url: down }, 'Ignore') });
  await eventually(async () => {
    const admitted = await server.kubectl(['create', '-f', '-'], { input: POD('ignored') });
    assert.equal(admitted.code, 0, admitted.stderr);
  });
  await server.ok(['apply', '-f', '-'], { input: webhookConfiguration('Validating', 'down', { url: down }, 'Fail') });
  const refused = await server.kubectl(['create', '-f', '-'], { input: POD('failed') });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Internal error occurred: failed calling webhook "down\.example\.com": failed to call webhook: Post "https:\/\/127\.0\.0\.1:1\/validate": .*ECONNREFUSED/);
  await server.ok(['delete', 'validatingwebhookconfiguration', 'down']);
});

test('a ValidatingAdmissionPolicy denies with its message; Warn only warns', async () => {
  const policy = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'max-replicas' },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] }] },
      validations: [{ expression: 'object.spec.replicas <= 3', messageExpression: "'replicas must be no greater than 3, got ' + string(object.spec.replicas)" }],
    },
  };
  const binding = (actions: string[]) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: 'max-replicas-binding' },
    spec: { policyName: 'max-replicas', validationActions: actions, matchResources: { namespaceSelector: { matchLabels: { webhooks: 'on' } } } },
  });
  await server.ok(['apply', '-f', '-'], { input: JSON.stringify(policy) });
  await server.ok(['apply', '-f', '-'], { input: JSON.stringify(binding(['Deny'])) });
  const refused = await server.kubectl(['create', 'deployment', 'big', '--image=nginx', '--replicas=5', '-n', 'hooked']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-binding' denied request: replicas must be no greater than 3, got 5/);
  await server.ok(['create', 'deployment', 'small', '--image=nginx', '--replicas=2', '-n', 'hooked']);

  await server.ok(['apply', '-f', '-'], { input: JSON.stringify(binding(['Warn'])) });
  const warned = await server.kubectl(['create', 'deployment', 'big', '--image=nginx', '--replicas=5', '-n', 'hooked']);
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stderr, /Warning: Validation failed for ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-binding': replicas must be no greater than 3, got 5/);
});
