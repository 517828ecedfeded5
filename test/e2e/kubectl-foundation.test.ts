/** The foundation through the real kubectl: get/create/describe/label/annotate/delete/watch/discovery. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { eventually, KUBECTL, KUBECTL_NEWEST, KUBECTL_OLDEST, startServer, writeTemp, type TestServer } from './harness.js';

let server: TestServer;

before(async () => {
  server = await startServer(['--ephemeral']);
});
after(async () => {
  await server?.stop();
});

const MANIFEST = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {app: shop, tier: backend}
data:
  mode: production
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: shop}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: solo
  namespace: shop
  labels: {app: shop, tier: frontend}
spec:
  nodeName: node-a
  containers:
  - name: main
    image: busybox
`;

describe('kubectl against nautilus', () => {
  test('version, cluster-info, api-versions and api-resources', async () => {
    const version = await server.ok(['version', '-o', 'json']);
    assert.equal(JSON.parse(version).serverVersion.major, '1');
    assert.match(await server.ok(['cluster-info']), /Kubernetes control plane is running at https:\/\/127\.0\.0\.1:\d+/);
    const versions = (await server.ok(['api-versions'])).split('\n');
    for (const gv of ['v1', 'apps/v1', 'batch/v1', 'rbac.authorization.k8s.io/v1', 'coordination.k8s.io/v1', 'discovery.k8s.io/v1', 'networking.k8s.io/v1', 'policy/v1']) {
      assert.ok(versions.includes(gv), `api-versions lists ${gv}`);
    }
    const resources = await server.ok(['api-resources']);
    assert.match(resources, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    assert.match(resources, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    assert.match(resources, /^nodes\s+no\s+v1\s+false\s+Node$/m);
  });

  test('the system namespaces and the kubernetes service exist from the start', async () => {
    const names = await server.ok(['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}']);
    assert.deepEqual(names.split(' ').sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    const svc = await server.ok(['get', 'service', 'kubernetes', '-n', 'default']);
    assert.match(svc, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/m);
    assert.match(svc, /^kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP\s+\d+s$/m);
  });

  test('create -f with several documents, then get in every output format', async () => {
    const file = await writeTemp(server.dataDir, 'manifest.yaml', MANIFEST);
    const created = await server.ok(['create', '-f', file, '--validate=false']);
    assert.match(created, /namespace\/shop created/);
    assert.match(created, /configmap\/settings created/);
    assert.match(created, /deployment.apps\/web created/);
    assert.match(created, /pod\/solo created/);

    const table = await server.ok(['get', 'deployments', '-n', 'shop']);
    assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
    // The deployment controller may already have created its ReplicaSet (UP-TO-DATE 2); no pod is ready without nodes.
    assert.match(table, /^web\s+0\/2\s+[02]\s+0\s+\d+s$/m);
    const wide = await server.ok(['get', 'deployments', '-n', 'shop', '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/m);
    assert.match(wide, /\snginx\s+nginx:1\.27\s+app=web$/m);

    const pods = await server.ok(['get', 'pods', '-n', 'shop', '-o', 'wide']);
    assert.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
    assert.match(pods, /^solo\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+node-a\s+<none>\s+<none>$/m);

    const yaml = await server.ok(['get', 'deployment', 'web', '-n', 'shop', '-o', 'yaml']);
    assert.match(yaml, /^ {2}uid: [0-9a-f-]{36}$/m);
    assert.match(yaml, /^ {2}generation: 1$/m);
    assert.match(yaml, /^ {6}maxSurge: 25%$/m);
    assert.match(yaml, /^ {2}revisionHistoryLimit: 10$/m);
    assert.match(yaml, /imagePullPolicy: IfNotPresent/);

    const json = JSON.parse(await server.ok(['get', 'pod', 'solo', '-n', 'shop', '-o', 'json']));
    assert.equal(json.spec.restartPolicy, 'Always');
    assert.equal(json.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(json.spec.terminationGracePeriodSeconds, 30);
    assert.equal(json.spec.containers[0].imagePullPolicy, 'Always');
    assert.equal(json.spec.containers[0].terminationMessagePath, '/dev/termination-log');
    assert.match(json.metadata.resourceVersion, /^\d+$/);

    assert.equal(await server.ok(['get', 'configmap', 'settings', '-n', 'shop', '-o', 'jsonpath={.data.mode}']), 'production');
  });

  test('nodes: get with the usual columns, -o wide, cordon and describe', async () => {
    const node = `apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels: {kubernetes.io/hostname: node-a, node-role.kubernetes.io/control-plane: ""}
status:
  nodeInfo: {kubeletVersion: v1.32.0, osImage: Debian GNU/Linux 12, kernelVersion: "6.1.0", containerRuntimeVersion: "containerd://1.7.0", architecture: amd64, operatingSystem: linux}
  addresses: [{type: InternalIP, address: 10.0.0.5}]
  conditions: [{type: Ready, status: "True", reason: KubeletReady, message: ready, lastHeartbeatTime: "2026-01-01T00:00:00Z", lastTransitionTime: "2026-01-01T00:00:00Z"}]
`;
    await server.ok(['create', '-f', '-'], { input: node });
    assert.match(await server.ok(['get', 'nodes']), /^node-a\s+Ready\s+control-plane\s+\d+s\s+v1\.32\.0$/m);
    const wide = await server.ok(['get', 'nodes', '-o', 'wide']);
    assert.match(wide, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/m);
    assert.match(wide, /10\.0\.0\.5\s+<none>\s+Debian GNU\/Linux 12\s+6\.1\.0\s+containerd:\/\/1\.7\.0$/m);
    assert.match(await server.ok(['cordon', 'node-a']), /node\/node-a cordoned/);
    assert.match(await server.ok(['get', 'nodes']), /^node-a\s+Ready,SchedulingDisabled\s/m);
    assert.match(await server.ok(['describe', 'node', 'node-a']), /Unschedulable:\s+true/);
  });

  test('label and field selectors, -A and --chunk-size', async () => {
    const byLabel = await server.ok(['get', 'pods,configmaps', '-n', 'shop', '-l', 'app=shop,tier in (frontend,backend)', '-o', 'name']);
    assert.deepEqual(byLabel.trim().split('\n').sort(), ['configmap/settings', 'pod/solo']);
    assert.equal((await server.ok(['get', 'pods', '-n', 'shop', '-l', 'app=shop,tier!=frontend', '-o', 'name'])).trim(), '');
    assert.equal((await server.ok(['get', 'pods', '-A', '--field-selector', 'spec.nodeName=node-a', '-o', 'name'])).trim(), 'pod/solo');
    assert.equal((await server.ok(['get', 'pods', '-A', '--field-selector', 'spec.nodeName=elsewhere', '-o', 'name'])).trim(), '');
    const bad = await server.kubectl(['get', 'pods', '--field-selector', 'spec.bogus=1']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /field label not supported: spec\.bogus/);

    for (let i = 0; i < 7; i++) await server.ok(['create', 'configmap', `chunk-${i}`, '-n', 'default', '--from-literal=i=' + i]);
    const chunked = await server.ok(['get', 'configmaps', '-n', 'default', '--chunk-size=2', '-o', 'name']);
    const names = chunked.trim().split('\n').filter((n) => n.startsWith('configmap/chunk-'));
    assert.deepEqual(names, [0, 1, 2, 3, 4, 5, 6].map((i) => `configmap/chunk-${i}`));
    const all = await server.ok(['get', 'configmaps', '-A']);
    assert.match(all, /^NAMESPACE\s+NAME\s+DATA\s+AGE$/m);
    assert.match(all, /^shop\s+settings\s+1\s+\d+s$/m);
  });

  test('create generators: deployment, configmap, secret, namespace, service clusterip', async () => {
    assert.match(await server.ok(['create', 'namespace', 'gen']), /namespace\/gen created/);
    assert.match(await server.ok(['create', 'deployment', 'api', '--image=nginx', '--replicas=3', '-n', 'gen']), /deployment.apps\/api created/);
    assert.match(await server.ok(['create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=b=2', '-n', 'gen']), /configmap\/cfg created/);
    assert.match(await server.ok(['create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret', '-n', 'gen']), /secret\/creds created/);
    assert.match(await server.ok(['create', 'service', 'clusterip', 'api', '--tcp=80:8080', '-n', 'gen']), /service\/api created/);

    assert.match(await server.ok(['get', 'deployment', 'api', '-n', 'gen']), /^api\s+0\/3\s+[03]\s+0\s+\d+s$/m);
    assert.match(await server.ok(['get', 'secrets', '-n', 'gen']), /^creds\s+Opaque\s+1\s+\d+s$/m);
    const password = await server.ok(['get', 'secret', 'creds', '-n', 'gen', '-o', 'jsonpath={.data.password}']);
    assert.equal(Buffer.from(password, 'base64').toString(), 's3cret');
    const svc = await server.ok(['get', 'service', 'api', '-n', 'gen', '-o', 'json']);
    const parsed = JSON.parse(svc);
    assert.match(parsed.spec.clusterIP, /^10\.(9[6-9]|1[01]\d)\.\d+\.\d+$/);
    assert.equal(parsed.spec.ports[0].targetPort, 8080);
    assert.equal(parsed.spec.sessionAffinity, 'None');
    const duplicate = await server.kubectl(['create', 'configmap', 'cfg', '-n', 'gen']);
    assert.notEqual(duplicate.code, 0);
    assert.match(duplicate.stderr, /configmaps "cfg" already exists/);
  });

  test('describe, label and annotate', async () => {
    assert.match(await server.ok(['label', 'pod', 'solo', '-n', 'shop', 'release=blue']), /pod\/solo labeled/);
    assert.match(await server.ok(['annotate', 'pod', 'solo', '-n', 'shop', 'owner=team-a']), /pod\/solo annotated/);
    const overwrite = await server.kubectl(['label', 'pod', 'solo', '-n', 'shop', 'release=green']);
    assert.notEqual(overwrite.code, 0, 'label without --overwrite refuses to change a value');
    await server.ok(['label', 'pod', 'solo', '-n', 'shop', 'release=green', '--overwrite']);
    const described = await server.ok(['describe', 'pod', 'solo', '-n', 'shop']);
    assert.match(described, /^Name:\s+solo$/m);
    assert.match(described, /^Namespace:\s+shop$/m);
    assert.match(described, /release=green/);
    assert.match(described, /owner: team-a/);
    assert.match(described, /Image:\s+busybox/);
    const deploy = await server.ok(['describe', 'deployment', 'web', '-n', 'shop']);
    assert.match(deploy, /^Replicas:\s+2 desired/m);
    assert.match(deploy, /^StrategyType:\s+RollingUpdate$/m);
    await server.ok(['label', 'pod', 'solo', '-n', 'shop', 'release-']);
    assert.doesNotMatch(await server.ok(['get', 'pod', 'solo', '-n', 'shop', '--show-labels']), /release=/);
  });

  test('get -w sees ADDED, MODIFIED and DELETED in order', async () => {
    await server.ok(['create', 'configmap', 'watched', '-n', 'default', '--from-literal=k=v']);
    const watch = spawn(KUBECTL, ['get', 'configmap', 'watched', '-n', 'default', '-w', '--output-watch-events'], {
      env: { ...process.env, KUBECONFIG: server.kubeconfig },
    });
    let output = '';
    watch.stdout.on('data', (chunk) => (output += chunk));
    try {
      await eventually(async () => assert.match(output, /ADDED\s+watched\s+1\s/));
      await server.ok(['patch', 'configmap', 'watched', '-n', 'default', '--type=merge', '-p', '{"data":{"k2":"v2"}}']);
      await eventually(async () => assert.match(output, /MODIFIED\s+watched\s+2\s/));
      await server.ok(['delete', 'configmap', 'watched', '-n', 'default']);
      await eventually(async () => assert.match(output, /DELETED\s+watched\s+2\s/));
      const events = output.split('\n').filter((l) => /^(ADDED|MODIFIED|DELETED)/.test(l)).map((l) => l.split(/\s+/)[0]);
      assert.deepEqual(events, ['ADDED', 'MODIFIED', 'DELETED']);
    } finally {
      watch.kill();
    }
  });

  test('delete by name, by label and --all', async () => {
    await server.ok(['create', 'namespace', 'trash']);
    for (const name of ['a', 'b', 'c']) await server.ok(['create', 'configmap', name, '-n', 'trash']);
    await server.ok(['label', 'configmap', 'a', 'b', '-n', 'trash', 'group=x']);
    assert.match(await server.ok(['delete', 'configmap', 'c', '-n', 'trash']), /configmap "c" deleted/);
    const byLabel = await server.ok(['delete', 'configmap', '-l', 'group=x', '-n', 'trash']);
    assert.match(byLabel, /configmap "a" deleted/);
    assert.match(byLabel, /configmap "b" deleted/);
    await server.ok(['create', 'configmap', 'd', '-n', 'trash']);
    assert.match(await server.ok(['delete', 'configmaps', '--all', '-n', 'trash']), /configmap "d" deleted/);
    // Only what the root CA publisher puts back into every namespace remains.
    const left = (await server.ok(['get', 'configmaps', '-n', 'trash', '-o', 'name'])).trim().split('\n').filter(Boolean);
    assert.deepEqual(left.filter((name) => name !== 'configmap/kube-root-ca.crt'), []);
    const missing = await server.kubectl(['delete', 'configmap', 'nope', '-n', 'trash']);
    assert.match(missing.stderr, /NotFound.*configmaps "nope" not found/);
    // Deleting a namespace removes what is inside and then the namespace itself.
    await server.ok(['create', 'configmap', 'inside', '-n', 'trash']);
    assert.match(await server.ok(['delete', 'namespace', 'trash', '--timeout=20s']), /namespace "trash" deleted/);
    const gone = await server.kubectl(['get', 'namespace', 'trash']);
    assert.match(gone.stderr, /NotFound/);
  });

  test('events can be created and listed with their columns', async () => {
    const event = `apiVersion: v1
kind: Event
metadata: {name: solo.1, namespace: shop}
involvedObject: {kind: Pod, name: solo, namespace: shop}
reason: Scheduled
message: Successfully assigned shop/solo to node-a
type: Normal
firstTimestamp: "2026-01-01T00:00:00Z"
lastTimestamp: "2026-01-01T00:00:00Z"
count: 1
source: {component: default-scheduler}
`;
    await server.ok(['create', '-f', '-', '--validate=false'], { input: event });
    const events = await server.ok(['get', 'events', '-n', 'shop']);
    assert.match(events, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/m);
    assert.match(events, /Normal\s+Scheduled\s+pod\/solo\s+Successfully assigned shop\/solo to node-a/);
  });

  test('invalid objects are refused with 422 and field causes', async () => {
    const bad = await server.kubectl(['create', '-f', '-', '--validate=false'], { input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: []}\n' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /The Pod "Bad_Name" is invalid/);
    assert.match(bad.stderr, /metadata\.name: Invalid value: "Bad_Name"/);
    const missingNs = await server.kubectl(['create', 'configmap', 'x', '-n', 'does-not-exist']);
    assert.match(missingNs.stderr, /namespaces "does-not-exist" not found/);
  });

  for (const [label, binary] of [['oldest (1.27)', KUBECTL_OLDEST], ['newest (1.33)', KUBECTL_NEWEST]] as const) {
    test(`smoke with kubectl ${label}`, async () => {
      const run = (args: string[], input?: string) => server.ok(args, { binary, input });
      assert.match(await run(["version"]), /Server Version: (v1\.32|version\.Info\{Major:"1", Minor:"32")/);
      assert.match(await run(['get', 'namespaces']), /^default\s+Active\s+\d+[smh]/m);
      const ns = `smoke-${label.slice(0, 6)}`;
      await run(['create', 'namespace', ns]);
      await run(['create', '-f', '-', '--validate=false'], `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: ${ns}}\ndata: {a: "1"}\n`);
      assert.match(await run(['get', 'configmaps', '-n', ns]), /^c1\s+1\s+\d+s$/m);
      await run(['label', 'configmap', 'c1', '-n', ns, 'x=y']);
      assert.equal(await run(['get', 'configmap', 'c1', '-n', ns, '-o', 'jsonpath={.metadata.labels.x}']), 'y');
      assert.match(await run(['delete', 'namespace', ns]), /deleted/);
    });
  }
});

test('the default kubectl is the one the issue names', () => {
  assert.equal(KUBECTL, process.env.KUBECTL ?? '/usr/bin/kubectl');
});
