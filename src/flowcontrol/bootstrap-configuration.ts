/**
 * Upstream's bootstrap API Priority and Fairness configuration (v1.32) as data: the mandatory
 * objects (exempt, catch-all), which the server always restores, and the suggested ones, which it
 * creates and keeps current unless their `apf.kubernetes.io/autoupdate-spec` annotation is "false".
 */
import type { Obj } from '../registry/strategy.js';

export const AUTOUPDATE_ANNOTATION = 'apf.kubernetes.io/autoupdate-spec';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Subject = Record<string, any>;
type Rule = Record<string, unknown>;

const group = (name: string): Subject => ({ kind: 'Group', group: { name } });
const user = (name: string): Subject => ({ kind: 'User', user: { name } });
const serviceAccount = (namespace: string, name: string): Subject => ({ kind: 'ServiceAccount', serviceAccount: { namespace, name } });

const ALL_RESOURCES = { verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] };
const ALL_NON_RESOURCES = { verbs: ['*'], nonResourceURLs: ['*'] };
const everything = (...subjects: Subject[]): Rule => ({ subjects, resourceRules: [ALL_RESOURCES], nonResourceRules: [ALL_NON_RESOURCES] });

function priorityLevel(name: string, spec: Obj['spec']): Obj {
  return { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } }, spec };
}

function limited(name: string, shares: number, lendablePercent: number, queuing?: { queues: number; handSize: number; queueLengthLimit: number }): Obj {
  return priorityLevel(name, {
    type: 'Limited',
    limited: { nominalConcurrencyShares: shares, lendablePercent, limitResponse: queuing ? { type: 'Queue', queuing } : { type: 'Reject' } },
  });
}

function flowSchema(name: string, priorityLevelName: string, matchingPrecedence: number, distinguisher: 'ByUser' | 'ByNamespace' | undefined, rules: Rule[]): Obj {
  return {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'FlowSchema',
    metadata: { name, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    spec: {
      priorityLevelConfiguration: { name: priorityLevelName },
      matchingPrecedence,
      ...(distinguisher ? { distinguisherMethod: { type: distinguisher } } : {}),
      rules,
    },
  };
}

export const MANDATORY_PRIORITY_LEVELS: readonly Obj[] = [
  priorityLevel('exempt', { type: 'Exempt', exempt: { nominalConcurrencyShares: 0, lendablePercent: 0 } }),
  limited('catch-all', 5, 0),
];

export const MANDATORY_FLOW_SCHEMAS: readonly Obj[] = [
  flowSchema('exempt', 'exempt', 1, undefined, [everything(group('system:masters'))]),
  flowSchema('catch-all', 'catch-all', 10_000, 'ByUser', [everything(group('system:unauthenticated'), group('system:authenticated'))]),
];

const QUEUING_64 = { queues: 64, handSize: 6, queueLengthLimit: 50 };
const QUEUING_128 = { queues: 128, handSize: 6, queueLengthLimit: 50 };

export const SUGGESTED_PRIORITY_LEVELS: readonly Obj[] = [
  limited('node-high', 40, 25, QUEUING_64),
  limited('system', 30, 33, QUEUING_64),
  limited('leader-election', 10, 0, { queues: 16, handSize: 4, queueLengthLimit: 50 }),
  limited('workload-high', 40, 50, QUEUING_128),
  limited('workload-low', 100, 90, QUEUING_128),
  limited('global-default', 20, 50, QUEUING_128),
];

const leaseRule = (namespaces: string[]) => ({ verbs: ['get', 'create', 'update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces });

export const SUGGESTED_FLOW_SCHEMAS: readonly Obj[] = [
  flowSchema('probes', 'exempt', 2, undefined, [
    { subjects: [group('system:unauthenticated'), group('system:authenticated')], nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/readyz', '/livez'] }] },
  ]),
  flowSchema('system-leader-election', 'leader-election', 100, 'ByUser', [
    {
      subjects: [user('system:kube-controller-manager'), user('system:kube-scheduler')],
      resourceRules: [{ verbs: ['get', 'create', 'update'], apiGroups: [''], resources: ['endpoints', 'configmaps'], namespaces: ['kube-system'] }, leaseRule(['kube-system'])],
    },
  ]),
  flowSchema('endpoint-controller', 'workload-high', 150, 'ByUser', [
    {
      subjects: [user('system:kube-controller-manager'), serviceAccount('kube-system', 'endpoint-controller'), serviceAccount('kube-system', 'endpointslicemirroring-controller')],
      resourceRules: [{ verbs: ['get', 'create', 'update'], apiGroups: [''], resources: ['endpoints'], namespaces: ['*'] }],
    },
  ]),
  flowSchema('workload-leader-election', 'leader-election', 200, 'ByUser', [
    {
      subjects: [serviceAccount('kube-system', '*')],
      resourceRules: [{ verbs: ['get', 'create', 'update'], apiGroups: [''], resources: ['endpoints', 'configmaps'], namespaces: ['kube-system'] }, leaseRule(['kube-system'])],
    },
  ]),
  flowSchema('system-node-high', 'node-high', 400, 'ByUser', [
    {
      subjects: [group('system:nodes')],
      resourceRules: [
        { verbs: ['*'], apiGroups: [''], resources: ['nodes', 'nodes/status'], clusterScope: true },
        { verbs: ['*'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: ['*'] },
      ],
    },
  ]),
  flowSchema('system-nodes', 'system', 500, 'ByUser', [everything(group('system:nodes'))]),
  flowSchema('kube-controller-manager', 'workload-high', 800, 'ByNamespace', [everything(user('system:kube-controller-manager'))]),
  flowSchema('kube-scheduler', 'workload-high', 800, 'ByNamespace', [everything(user('system:kube-scheduler'))]),
  flowSchema('kube-system-service-accounts', 'workload-high', 900, 'ByNamespace', [everything(serviceAccount('kube-system', '*'))]),
  flowSchema('service-accounts', 'workload-low', 9000, 'ByUser', [everything(group('system:serviceaccounts'))]),
  flowSchema('global-default', 'global-default', 9900, 'ByUser', [everything(group('system:unauthenticated'), group('system:authenticated'))]),
];
