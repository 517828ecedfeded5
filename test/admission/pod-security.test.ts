import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/api/status.js';
import { evaluatePod, forbiddenDetail, policyFromLabels } from '../../src/admission/pod-security/policy.js';
import { admissionCluster, pod, RESTRICTED_CONTAINER } from './fixture.js';

const refusal = (message: string) => (error: unknown) => {
  assert.ok(error instanceof ApiError, String(error));
  assert.equal(error.code, 403);
  assert.equal(error.reason, 'Forbidden');
  assert.equal(error.message, message);
  return true;
};

describe('PodSecurity admission', () => {
  it('refuses a pod violating the enforce level with upstream message', async () => {
    const cluster = await admissionCluster({ namespaces: [{ name: 'locked', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } }] });
    await assert.rejects(
      cluster.create('', 'pods', pod('locked', 'web')),
      refusal(
        'pods "web" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ' +
          'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ' +
          'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
      ),
    );
    const { warnings } = await cluster.create('', 'pods', pod('locked', 'ok', { containers: [RESTRICTED_CONTAINER] }));
    assert.deepEqual(warnings, []);
    await cluster.stop();
  });

  it('names every baseline violation in check order', async () => {
    const cluster = await admissionCluster({ namespaces: [{ name: 'base', labels: { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'v1.32' } }] });
    const spec = {
      hostPID: true,
      hostNetwork: true,
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
      containers: [
        { name: 'a', image: 'x', securityContext: { privileged: true, capabilities: { add: ['NET_ADMIN', 'CHOWN'] } }, ports: [{ containerPort: 80, hostPort: 8080 }] },
        { name: 'b', image: 'x', securityContext: { privileged: true } },
      ],
    };
    await assert.rejects(
      cluster.create('', 'pods', pod('base', 'bad', spec)),
      refusal(
        'pods "bad" is forbidden: violates PodSecurity "baseline:v1.32": non-default capabilities (container "a" must not include "NET_ADMIN" in securityContext.capabilities.add), ' +
          'host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "root"), hostPort (container "a" uses hostPort 8080), ' +
          'privileged (containers "a", "b" must not set securityContext.privileged=true)',
      ),
    );
    await cluster.stop();
  });

  it('warns (without refusing) at the warn level, and records audit annotations', async () => {
    const cluster = await admissionCluster({ namespaces: [{ name: 'soft', labels: { 'pod-security.kubernetes.io/warn': 'baseline', 'pod-security.kubernetes.io/audit': 'restricted' } }] });
    const { warnings } = await cluster.create('', 'pods', pod('soft', 'p', { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] }));
    assert.deepEqual(warnings, ['would violate PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)']);
    await cluster.stop();
  });

  it('warns, at the enforce level too, about pod templates of workloads but never refuses them', async () => {
    const cluster = await admissionCluster({ namespaces: [{ name: 'locked', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } }] });
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'locked' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { hostIPC: true, containers: [{ name: 'c', image: 'x' }] } } },
    };
    const { warnings } = await cluster.create('apps', 'deployments', deployment as never);
    assert.deepEqual(warnings, ['would violate PodSecurity "baseline:latest": host namespaces (hostIPC=true)']);
    await cluster.stop();
  });

  it('refuses invalid policy labels on namespaces with 422', async () => {
    const cluster = await admissionCluster();
    await assert.rejects(
      cluster.create('', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'typo', labels: { 'pod-security.kubernetes.io/enforce': 'strict' } } } as never),
      (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.code, 422);
        assert.equal(error.message, 'Namespace "typo" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted');
        return true;
      },
    );
    await cluster.stop();
  });

  it('warns about existing pods when a namespace tightens its enforce level', async () => {
    const cluster = await admissionCluster({ namespaces: [{ name: 'team' }] });
    for (const name of ['b', 'a', 'c']) await cluster.create('', 'pods', pod('team', name, { hostNetwork: true }));
    await cluster.create('', 'pods', pod('team', 'good', { containers: [RESTRICTED_CONTAINER] }));
    const namespace = (await cluster.client.get({ group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false }, undefined, 'team'));
    namespace.metadata.labels = { ...namespace.metadata.labels, 'pod-security.kubernetes.io/enforce': 'baseline' };
    const { warnings } = await cluster.update('', 'namespaces', namespace);
    assert.deepEqual(warnings, ['existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest"', 'a (and 2 other pods): host namespaces']);
    await cluster.stop();
  });

  it('applies checks by policy version and lets restricted replace its baseline counterparts', () => {
    const spec = { containers: [{ name: 'c', image: 'x', securityContext: { ...RESTRICTED_CONTAINER.securityContext, runAsUser: 0 } }] };
    const at = (labels: Record<string, string>) => forbiddenDetail(evaluatePod(policyFromLabels(labels).policy.enforce, {}, spec));
    assert.equal(at({ 'pod-security.kubernetes.io/enforce': 'restricted' }), 'runAsUser=0 (container "c" must not set runAsUser=0)');
    // runAsUser=0 is only forbidden from v1.23 on.
    assert.equal(at({ 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.22' }), '');
    const volumes = { volumes: [{ name: 'h', hostPath: { path: '/' } }], containers: [RESTRICTED_CONTAINER] };
    assert.equal(forbiddenDetail(evaluatePod(policyFromLabels({ 'pod-security.kubernetes.io/enforce': 'restricted' }).policy.enforce, {}, volumes)), 'restricted volume types (volume "h" uses restricted volume type "hostPath")');
    // An invalid level fails closed (restricted) and is reported.
    const { policy, errors } = policyFromLabels({ 'pod-security.kubernetes.io/audit': 'nope' });
    assert.equal(policy.audit.level, 'restricted');
    assert.equal(errors.length, 1);
  });

  it('leaves pod status writes and metadata-only updates alone', async () => {
    const cluster = await admissionCluster({ namespaces: [{ name: 'team' }] });
    const { object } = await cluster.create('', 'pods', pod('team', 'p', { hostNetwork: true }));
    const ns = await cluster.client.get({ group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false }, undefined, 'team');
    ns.metadata.labels = { ...ns.metadata.labels, 'pod-security.kubernetes.io/enforce': 'baseline' };
    await cluster.update('', 'namespaces', ns);
    object.metadata.labels = { touched: 'yes' };
    await cluster.update('', 'pods', object);
    await cluster.stop();
  });
});
