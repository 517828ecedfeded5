/**
 * Taint-based eviction end to end: a `nautilus nodes` process dies, its node's Lease stops, the
 * node lifecycle controller taints it unreachable (NoExecute) after a short
 * --node-monitor-grace-period, and the taint-eviction controller deletes its pods once their
 * 2 s toleration has run out; the Deployment's replacements run on the node that is alive.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, eventually, type TestServer } from './harness.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: Array<{ type: string; status: string; reason?: string }> };
}

let server: TestServer;
let agent: ChildProcess | undefined;
before(async () => {
  // Longer than the agents' 10 s Lease renewal (as upstream requires of the grace period), so the
  // live node is never judged silent between two renewals.
  server = await startServer(['--ephemeral', '--virtual-nodes', '1', '--node-monitor-grace-period', '20s']);
});
after(async () => {
  if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  await server?.stop();
});

test('a node whose Lease stops loses its pods after their tolerationSeconds; the Deployment runs them again elsewhere', async () => {
  agent = spawn(process.execPath, [MAIN, 'nodes', '--kubeconfig', server.kubeconfig, '--count', '1', '--name-prefix', 'remote-'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NAUTILUS_LOG_LEVEL: 'error' } });
  await eventually(async () => assert.match(await server.ok(['get', 'node', 'remote-0', '--no-headers']), /\bReady\b/), 30_000);
  const local = JSON.parse(await server.ok(['get', 'nodes', '-o', 'json'])).items.map((n: Pod) => n.metadata.name).find((name: string) => name !== 'remote-0');
  // Everything starts on remote-0.
  await server.ok(['cordon', local]);
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }], containers: [{ name: 'app', image: 'nginx' }] },
      },
    },
  };
  await server.ok(['create', '-f', '-'], { input: JSON.stringify(deployment) });
  const pods = async (): Promise<Pod[]> => JSON.parse(await server.ok(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
  const first = await eventually(async () => {
    const all = await pods();
    assert.equal(all.filter((p) => p.status.phase === 'Running' && p.spec.nodeName === 'remote-0').length, 2);
    return all;
  }, 30_000);
  await server.ok(['uncordon', local]);

  agent.kill('SIGKILL');
  await eventually(async () => {
    const node = JSON.parse(await server.ok(['get', 'node', 'remote-0', '-o', 'json']));
    assert.ok((node.spec.taints ?? []).some((t: { key: string; effect: string }) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'));
  }, 60_000);
  // The first pods are deleted (they stay terminating: no kubelet is left to confirm), marked first.
  await eventually(async () => {
    const now = await pods();
    for (const old of first) {
      const pod = now.find((p) => p.metadata.name === old.metadata.name);
      assert.ok(pod?.metadata.deletionTimestamp, `${old.metadata.name} deleted`);
      assert.ok(pod.status.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'DeletionByTaintManager'));
    }
  }, 30_000);
  const events = await server.ok(['get', 'events', '--field-selector', 'reason=TaintManagerEviction', '-o', 'jsonpath={.items[*].message}']);
  for (const old of first) assert.match(events, new RegExp(`Marking for deletion Pod default/${old.metadata.name}`));
  // Replacements run on the live node: the unreachable:NoSchedule taint keeps them off the dead
  // one, although they tolerate its NoExecute taint for 2 s.
  await eventually(async () => {
    const alive = (await pods()).filter((p) => !p.metadata.deletionTimestamp);
    assert.equal(alive.length, 2);
    for (const pod of alive) assert.deepEqual([pod.spec.nodeName, pod.status.phase], [local, 'Running']);
  }, 60_000);
});
