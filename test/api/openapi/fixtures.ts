/** Served resources and realistic manifests shared by the OpenAPI tests. */

import type { ServedResource } from '../../../src/api/openapi/index.js';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const SERVED: ServedResource[] = [
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, verbs: ALL_VERBS,
    subresources: ['status', 'binding', 'eviction', 'log', 'ephemeralcontainers'] },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, verbs: ALL_VERBS, subresources: ['status'] },
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], subresources: ['status', 'finalize'] },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, verbs: ALL_VERBS, subresources: [] },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, verbs: ALL_VERBS,
    subresources: ['status', 'scale'] },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false,
    verbs: ALL_VERBS, subresources: [] },
];

/** A Deployment as people write them, using most commonly used PodSpec features. */
export function realisticDeployment(): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, annotations: { 'team/owner': 'payments' } },
    spec: {
      replicas: 3,
      revisionHistoryLimit: 5,
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend'] }] },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web', tier: 'frontend' } },
        spec: {
          serviceAccountName: 'web',
          terminationGracePeriodSeconds: 30,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } },
          imagePullSecrets: [{ name: 'registry' }],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule', tolerationSeconds: 60 }],
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [{
                weight: 100,
                podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } },
              }],
            },
          },
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }],
          initContainers: [{ name: 'migrate', image: 'registry.example/web:1.2.3', command: ['/bin/migrate'], args: ['--up'] }],
          containers: [{
            name: 'web',
            image: 'registry.example/web:1.2.3',
            imagePullPolicy: 'IfNotPresent',
            ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            env: [
              { name: 'MODE', value: 'production' },
              { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
            ],
            envFrom: [{ configMapRef: { name: 'web-config' } }],
            resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: 1, memory: '512Mi' } },
            livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 10, periodSeconds: 10 },
            readinessProbe: { tcpSocket: { port: 8080 }, failureThreshold: 3 },
            lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            volumeMounts: [{ name: 'cache', mountPath: '/cache' }, { name: 'config', mountPath: '/etc/web', readOnly: true }],
          }],
          volumes: [
            { name: 'cache', emptyDir: { sizeLimit: '1Gi' } },
            { name: 'config', configMap: { name: 'web-config', items: [{ key: 'app.yaml', path: 'app.yaml' }], defaultMode: 420 } },
          ],
        },
      },
    },
  };
}

/** A Pod as the server returns it: spec defaults and a status filled in. */
export function realisticPod(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-7d4b9c-abcde', generateName: 'web-7d4b9c-', namespace: 'shop', uid: '3f1c2d4e-0000-4000-8000-000000000001',
      resourceVersion: '42', creationTimestamp: '2026-01-01T00:00:00Z', labels: { app: 'web' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d4b9c', uid: 'aa', controller: true,
        blockOwnerDeletion: true }],
      finalizers: ['example.com/cleanup'],
      managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z',
        fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': {} } } }],
    },
    spec: {
      containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }],
        terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent',
        resources: {} }],
      restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', nodeName: 'node-1',
      enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority', priority: 0,
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
    status: {
      phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }], hostIP: '192.168.1.10', qosClass: 'BestEffort',
      startTime: '2026-01-01T00:00:01Z',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:05Z' }],
      containerStatuses: [{ name: 'web', ready: true, restartCount: 0, image: 'nginx:1.27', imageID: 'docker.io/nginx@sha256:00',
        containerID: 'containerd://abc', started: true, state: { running: { startedAt: '2026-01-01T00:00:04Z' } },
        lastState: {} }],
    },
  };
}
