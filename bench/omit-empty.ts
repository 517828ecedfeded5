/**
 * `npm run bench -- omit-empty`: the typed-round-trip pass (omit-empty) that every write of a
 * built-in object runs twice, compiled walker against the schema-interpreting one, in the same
 * process, interleaved: microseconds per pass for a Pod (as the virtual nodes write it, with
 * status) and a Deployment. Writes bench/results/write-path.json.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { loadGeneratedDefinitions } from '../src/api/openapi/definitions.js';
import { dropOmittedValues, dropOmittedValuesInterpreted } from '../src/api/openapi/omit-empty.js';

const { definitions } = loadGeneratedDefinitions();

const container = (name: string) => ({
  name, image: 'registry.example/app:1.2.3', args: ['--port=8080'], env: [{ name: 'MODE', value: 'prod' }, { name: 'EMPTY', value: '' }],
  ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  volumeMounts: [{ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
  terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent',
  readinessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
});
const podSpec = {
  containers: [container('app'), container('sidecar')], restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst',
  serviceAccountName: 'default', serviceAccount: 'default', nodeName: 'node-17', securityContext: {}, schedulerName: 'default-scheduler',
  tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
  priority: 0, enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority',
  volumes: [{ name: 'kube-api-access', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] } }],
};
const pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-7d4b9c-x2x9z', generateName: 'web-7d4b9c-', namespace: 'ns-1', uid: '5b1e6c1a-0000-4000-8000-000000000001', resourceVersion: '1234', creationTimestamp: '2026-12-02T20:00:00Z', labels: { app: 'web', 'pod-template-hash': '7d4b9c' }, annotations: {}, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d4b9c', uid: 'u', controller: true, blockOwnerDeletion: true }] },
  spec: podSpec,
  status: {
    phase: 'Running', conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: '2026-12-02T20:00:01Z' })),
    hostIP: '10.0.0.17', hostIPs: [{ ip: '10.0.0.17' }], podIP: '10.1.17.4', podIPs: [{ ip: '10.1.17.4' }], startTime: '2026-12-02T20:00:01Z', qosClass: 'Burstable',
    containerStatuses: ['app', 'sidecar'].map((name) => ({ name, state: { running: { startedAt: '2026-12-02T20:00:02Z' } }, lastState: {}, ready: true, restartCount: 0, image: 'registry.example/app:1.2.3', imageID: '', containerID: 'containerd://abc', started: true })),
  },
};
const deployment = {
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'web', namespace: 'ns-1', labels: { app: 'web' }, annotations: {} },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { ...podSpec, nodeName: '' } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 },
};

function perPass(fn: typeof dropOmittedValues, name: string, object: object, passes: number): number {
  const copies = Array.from({ length: passes }, () => structuredClone(object));
  const start = process.hrtime.bigint();
  for (const copy of copies) fn(definitions, name, copy);
  return Number(process.hrtime.bigint() - start) / 1000 / passes;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const cases = [['Pod', 'io.k8s.api.core.v1.Pod', pod], ['Deployment', 'io.k8s.api.apps.v1.Deployment', deployment]] as const;
const results: Record<string, { interpretedMicros: number; compiledMicros: number; speedup: number }> = {};
const loadBefore = loadavg()[0]!;
for (const [label, name, object] of cases) {
  const interpreted: number[] = [];
  const compiled: number[] = [];
  for (let round = 0; round < 15; round++) {
    interpreted.push(perPass(dropOmittedValuesInterpreted, name, object, 2000));
    compiled.push(perPass(dropOmittedValues, name, object, 2000));
  }
  const i = median(interpreted);
  const c = median(compiled);
  results[label] = { interpretedMicros: +i.toFixed(2), compiledMicros: +c.toFixed(2), speedup: +(i / c).toFixed(1) };
  console.log(`${label}: interpreted ${i.toFixed(1)} µs/pass, compiled ${c.toFixed(1)} µs/pass (${(i / c).toFixed(1)}x); twice per write`);
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/write-path.json', `${JSON.stringify({
  benchmark: 'omit-empty (typed round trip) pass, compiled vs interpreted, same process, interleaved rounds of 2,000 passes, median of 15',
  node: process.version, loadAverage1m: { before: +loadBefore.toFixed(2), after: +loadavg()[0]!.toFixed(2) }, results,
}, null, 2)}\n`);
