/** The admission chain through the real kubectl: PodSecurity refusals and warnings, ResourceQuota refusals. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from './harness.js';

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const PLAIN_POD = (name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
  - name: web
    image: nginx
`;

describe('admission through kubectl', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(['--ephemeral']);
  });
  after(async () => {
    await server?.stop();
  });

  it('refuses a pod that violates the namespace\'s restricted level with upstream message', async () => {
    await server.ok(['create', 'namespace', 'locked']);
    await server.ok(['label', 'namespace', 'locked', 'pod-security.kubernetes.io/enforce=restricted']);
    const result = await server.kubectl(['apply', '-n', 'locked', '-f', '-'], { input: PLAIN_POD('web') });
    assert.notEqual(result.code, 0);
    assert.equal(
      result.stderr.trim(),
      'Error from server (Forbidden): error when creating "STDIN": pods "web" is forbidden: violates PodSecurity "restricted:latest": ' +
        'allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "web" must set securityContext.capabilities.drop=["ALL"]), ' +
        'runAsNonRoot != true (pod or container "web" must set securityContext.runAsNonRoot=true), ' +
        'seccompProfile (pod or container "web" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
  });

  it('prints warn-level violations as kubectl warnings and creates the pod', async () => {
    await server.ok(['create', 'namespace', 'soft']);
    await server.ok(['label', 'namespace', 'soft', 'pod-security.kubernetes.io/warn=baseline']);
    const result = await server.kubectl(['run', 'host', '-n', 'soft', '--image=nginx', '--overrides={"spec":{"hostNetwork":true}}']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^Warning: would violate PodSecurity "baseline:latest": host namespaces \(hostNetwork=true\)$/m);
    assert.match(result.stdout, /pod\/host created/);
    // Tightening enforce warns about the pod that would now be refused.
    const label = await server.kubectl(['label', 'namespace', 'soft', 'pod-security.kubernetes.io/enforce=baseline']);
    assert.equal(label.code, 0, label.stderr);
    assert.match(label.stderr, /Warning: existing pods in namespace "soft" violate the new PodSecurity enforce level "baseline:latest"/);
    assert.match(label.stderr, /Warning: host: host namespaces/);
  });

  it('refuses a create over the namespace\'s quota', async () => {
    await server.ok(['create', 'namespace', 'quota']);
    await server.ok(['create', 'quota', 'small', '-n', 'quota', '--hard=pods=1,count/configmaps=2']);
    await until('quota status', async () => {
      const used = await server.ok(['get', 'quota', 'small', '-n', 'quota', '-o', 'jsonpath={.status.used.pods}']);
      return used === '0' ? used : undefined;
    });
    await server.ok(['apply', '-n', 'quota', '-f', '-'], { input: PLAIN_POD('first') });
    const second = await server.kubectl(['apply', '-n', 'quota', '-f', '-'], { input: PLAIN_POD('second') });
    assert.notEqual(second.code, 0);
    assert.equal(
      second.stderr.trim(),
      'Error from server (Forbidden): error when creating "STDIN": pods "second" is forbidden: exceeded quota: small, requested: pods=1, used: pods=1, limited: pods=1',
    );
    const described = await server.ok(['describe', 'quota', 'small', '-n', 'quota']);
    assert.match(described, /pods\s+1\s+1/);
  });

  it('applies LimitRange defaults and mounts the service account token', async () => {
    await server.ok(['create', 'namespace', 'limits']);
    await server.ok(['apply', '-n', 'limits', '-f', '-'], {
      input: `apiVersion: v1
kind: LimitRange
metadata:
  name: defaults
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 128Mi}
    defaultRequest: {cpu: 100m}
    max: {cpu: "1"}
`,
    });
    await until('the default service account', async () => ((await server.kubectl(['get', 'serviceaccount', 'default', '-n', 'limits'])).code === 0 ? true : undefined));
    await server.ok(['apply', '-n', 'limits', '-f', '-'], { input: PLAIN_POD('sized') });
    const pod = JSON.parse(await server.ok(['get', 'pod', 'sized', '-n', 'limits', '-o', 'json']));
    assert.deepEqual(pod.spec.containers[0].resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
    assert.equal(pod.metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web');
    assert.match(pod.spec.volumes[0].name, /^kube-api-access-\w{5}$/);
    assert.deepEqual(pod.spec.containers[0].volumeMounts, [{ name: pod.spec.volumes[0].name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
    // As upstream: ownership is taken before mutating admission, so what admission added belongs to no manager.
    const shown = JSON.parse(await server.ok(['get', 'pod', 'sized', '-n', 'limits', '-o', 'json', '--show-managed-fields']));
    const created = shown.metadata.managedFields.find((entry: { manager: string }) => entry.manager === 'kubectl-client-side-apply');
    assert.deepEqual(Object.keys(created.fieldsV1['f:spec']['f:containers']['k:{"name":"web"}']).sort(), ['.', 'f:image', 'f:imagePullPolicy', 'f:name', 'f:resources', 'f:terminationMessagePath', 'f:terminationMessagePolicy']);
    assert.deepEqual(created.fieldsV1['f:spec']['f:containers']['k:{"name":"web"}']['f:resources'], {}, "LimitRanger's requests and limits are not the client's");
    for (const added of ['f:volumes', 'f:tolerations', 'f:priority', 'f:serviceAccountName']) assert.equal(created.fieldsV1['f:spec'][added], undefined, `${added} is admission's`);
    const tooBig = await server.kubectl(['run', 'big', '-n', 'limits', '--image=nginx', '--overrides={"spec":{"containers":[{"name":"big","image":"nginx","resources":{"limits":{"cpu":"2"}}}]}}']);
    assert.notEqual(tooBig.code, 0);
    assert.equal(tooBig.stderr.trim(), 'Error from server (Forbidden): pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
    assert.match(await server.ok(['get', 'priorityclasses']), /system-node-critical\s+2000001000/);
  });
});
