/**
 * Realistic objects for scale benchmarks: pods of 2–4 KB as a ReplicaSet and a kubelet leave them
 * (owner reference, labels, two containers, probes, volumes, a Running status), nodes with the
 * status a kubelet reports, and the namespaces and ReplicaSets that own the pods.
 */

export interface ClusterShape {
  nodes: number;
  pods: number;
  namespaces: number;
  /** Pods per ReplicaSet (each namespace holds pods / namespaces pods in several ReplicaSets). */
  podsPerReplicaSet: number;
  /** The server runs the nodes itself (`serve --virtual-nodes N`): their names, and kubelets that set pod status. */
  virtualNodes?: boolean;
}

export const namespaceName = (n: number): string => `bench-${String(n).padStart(4, '0')}`;
export const nodeName = (shape: ClusterShape, n: number): string => (shape.virtualNodes ? `virtual-node-${n}` : `node-${String(n).padStart(5, '0')}`);
export const appName = (n: number): string => `app-${n % 100}`;

/** Where pod number `i` lives: its namespace, ReplicaSet and name. */
export function podPlace(shape: ClusterShape, i: number): { namespace: string; replicaSet: number; name: string; app: string; node: string } {
  const namespace = namespaceName(i % shape.namespaces);
  const inNamespace = Math.floor(i / shape.namespaces);
  const replicaSet = Math.floor(inNamespace / shape.podsPerReplicaSet);
  const app = appName(replicaSet * 7 + (i % shape.namespaces));
  return { namespace, replicaSet, name: `${app}-rs${replicaSet}-${hash5(i)}`, app, node: nodeName(shape, i % Math.max(1, shape.nodes)) };
}

export function replicaSetsPerNamespace(shape: ClusterShape): number {
  return Math.ceil(Math.ceil(shape.pods / shape.namespaces) / shape.podsPerReplicaSet);
}

export function namespace(name: string) {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, team: `team-${name.length % 7}` } } };
}

const TEMPLATE_HASH = '5d8f7c9b6';

function podTemplateSpec(app: string) {
  return {
    serviceAccountName: 'default',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    schedulerName: 'default-scheduler',
    securityContext: { runAsNonRoot: true },
    containers: [
      {
        name: 'app',
        image: `registry.example.com/team/${app}:1.24.3`,
        imagePullPolicy: 'IfNotPresent',
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        env: [
          { name: 'APP_NAME', value: app },
          { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
        ],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
        volumeMounts: [{ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
      {
        name: 'sidecar-proxy',
        image: 'registry.example.com/mesh/proxy:1.19.0',
        imagePullPolicy: 'IfNotPresent',
        args: ['proxy', 'sidecar'],
        resources: { requests: { cpu: '50m', memory: '64Mi' } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
    ],
    volumes: [
      {
        name: 'kube-api-access',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          ],
        },
      },
    ],
  };
}

function podLabels(app: string, replicaSet: number) {
  return { app, 'app.kubernetes.io/name': app, 'app.kubernetes.io/instance': `${app}-rs${replicaSet}`, tier: replicaSet % 2 ? 'backend' : 'frontend', 'pod-template-hash': `${TEMPLATE_HASH}${replicaSet}` };
}

export function replicaSet(namespace: string, index: number, app: string, replicas: number) {
  const labels = podLabels(app, index);
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${app}-rs${index}`, namespace, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podTemplateSpec(app) } },
  };
}

export function pod(place: { namespace: string; replicaSet: number; name: string; app: string; node: string }, owner: { name: string; uid: string }) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: place.name,
      generateName: `${place.app}-rs${place.replicaSet}-`,
      namespace: place.namespace,
      labels: podLabels(place.app, place.replicaSet),
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { ...podTemplateSpec(place.app), nodeName: place.node },
  };
}

/** The status a kubelet reports for a running pod (written through pods/status). */
export function runningPodStatus(i: number) {
  const started = new Date(Date.UTC(2026, 11, 1, 8, 0, i % 60)).toISOString().replace('.000Z', 'Z');
  const podIP = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const container = (name: string, image: string) => ({
    name,
    image,
    containerID: `containerd://${((i * 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(4)}`,
    ready: true,
    restartCount: 0,
    started: true,
    state: { running: { startedAt: started } },
  });
  return {
    status: {
      phase: 'Running',
      hostIP: `192.168.${(i >> 8) % 20}.${i % 250}`,
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: started,
      qosClass: 'Burstable',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: started })),
      containerStatuses: [container('app', 'registry.example.com/team/app:1.24.3'), container('sidecar-proxy', 'registry.example.com/mesh/proxy:1.19.0')],
      hostIPs: [{ ip: `192.168.${(i >> 8) % 20}.${i % 250}` }],
    },
  };
}

export function node(shape: ClusterShape, n: number) {
  const name = nodeName(shape, n);
  const zone = `zone-${n % 3}`;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'm6i.2xlarge',
        'topology.kubernetes.io/region': 'region-1',
        'topology.kubernetes.io/zone': zone,
        'node-role.kubernetes.io/worker': '',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { podCIDR: `10.${n >> 8}.${n & 255}.0/24`, podCIDRs: [`10.${n >> 8}.${n & 255}.0/24`], providerID: `example://${zone}/${name}` },
    status: {
      capacity: { cpu: '8', memory: '32386044Ki', pods: '110', 'ephemeral-storage': '104845292Ki' },
      allocatable: { cpu: '7910m', memory: '31235068Ki', pods: '110', 'ephemeral-storage': '96625420339' },
      conditions: [
        ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
        ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
        ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
        ['Ready', 'True', 'KubeletReady'],
      ].map(([type, status, reason]) => ({ type, status, reason, message: `kubelet reports ${reason}`, lastHeartbeatTime: '2026-12-01T08:00:00Z', lastTransitionTime: '2026-12-01T08:00:00Z' })),
      addresses: [
        { type: 'InternalIP', address: `192.168.${n >> 8}.${n & 255}` },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: hash5(n).repeat(6),
        systemUUID: `ec2${hash5(n)}-0000-0000-0000-000000000000`,
        bootID: `${hash5(n + 1)}-boot`,
        kernelVersion: '6.1.0-27-cloud-amd64',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        containerRuntimeVersion: 'containerd://1.7.22',
        kubeletVersion: 'v1.32.0',
        kubeProxyVersion: 'v1.32.0',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/**
 * A generateName-like suffix: five characters of upstream's alphabet, distinct for every i below
 * 27^5 (multiplying by a number coprime with 27^5 permutes the residues).
 */
function hash5(i: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let x = (i * 7919) % 14_348_907;
  let out = '';
  for (let k = 0; k < 5; k++) {
    out += alphabet[x % 27];
    x = Math.floor(x / 27);
  }
  return out;
}
