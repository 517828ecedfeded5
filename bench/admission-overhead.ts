/**
 * What the admission chain costs a write, in process through the generic store, alternating
 * rounds in one process (bounded; prints and writes JSON):
 *
 * - ConfigMap creates with the default plugins and without, no webhooks or policies configured
 *   (what every built-in write pays for extensibility);
 * - Pod creates with no plugins, with every plugin but nothing configured in the namespace, and
 *   with every plugin enforcing: PodSecurity `restricted`, a ResourceQuota charged on each create
 *   (its status written by compare-and-swap), a LimitRange filling in defaults, the token volume.
 *
 *   npm run build && node dist/bench/admission-overhead.js [creates-per-round]
 */
import { allKinds } from '../src/registry/catalog.js';
import { Registry } from '../src/registry/registry.js';
import { Store } from '../src/storage/store.js';
import { AdmissionChain } from '../src/admission/admission.js';
import { defaultAdmissionPlugins } from '../src/admission/plugins.js';
import { InProcessClient } from '../src/client/in-process.js';
import { LOOPBACK_USER } from '../src/auth/system-users.js';
import { CONFIG_MAPS, LIMIT_RANGES, NAMESPACES, PODS, RESOURCE_QUOTAS, SERVICE_ACCOUNTS } from '../src/client/resource-types.js';
import { summarize, writeResult } from './common.js';

const PER_ROUND = Number(process.argv[2] ?? 3000);
const ROUNDS = 6;

type PodSetup = 'none' | 'idle' | 'enforcing';

async function cluster(withPlugins: boolean) {
  let registry: Registry | undefined;
  const plugins = withPlugins ? defaultAdmissionPlugins({ registry: () => registry! }) : [];
  registry = new Registry(allKinds, new Store(), { admission: new AdmissionChain(plugins) });
  return { registry, client: new InProcessClient({ registry, user: LOOPBACK_USER, fieldManager: 'bench' }) };
}

async function time(samples: number[], write: () => Promise<unknown>): Promise<void> {
  const started = process.hrtime.bigint();
  await write();
  samples.push(Number(process.hrtime.bigint() - started) / 1e6);
}

async function configMapRound(withPlugins: boolean, index: number): Promise<number[]> {
  const { client } = await cluster(withPlugins);
  await client.create(NAMESPACES, undefined, { metadata: { name: 'bench' } });
  const samples: number[] = [];
  for (let i = 0; i < PER_ROUND; i++) await time(samples, () => client.create(CONFIG_MAPS, 'bench', { metadata: { name: `cm-${index}-${i}` }, data: { key: 'value' } }));
  return samples;
}

const RESTRICTED_CONTAINER = {
  name: 'app',
  image: 'registry.example/app:1',
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
};

async function podRound(setup: PodSetup, index: number): Promise<number[]> {
  const { client } = await cluster(setup !== 'none');
  const labels: Record<string, string> = setup === 'enforcing' ? { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' } : {};
  await client.create(NAMESPACES, undefined, { metadata: { name: 'bench', labels } });
  await client.create(SERVICE_ACCOUNTS, 'bench', { metadata: { name: 'default' } });
  if (setup === 'enforcing') {
    await client.create(LIMIT_RANGES, 'bench', { metadata: { name: 'defaults' }, spec: { limits: [{ type: 'Container', default: { cpu: '100m', memory: '64Mi' }, max: { cpu: '1' } }] } });
    const quota = await client.create(RESOURCE_QUOTAS, 'bench', { metadata: { name: 'quota' }, spec: { hard: { pods: '1000000', 'requests.cpu': '100000', 'limits.memory': '1000Gi' } } });
    // What the quota controller would write first: nothing used yet.
    await client.update(RESOURCE_QUOTAS, 'bench', 'quota', { ...quota, status: { hard: quota.spec.hard, used: { pods: '0', 'requests.cpu': '0', 'limits.memory': '0' } } }, { subresource: 'status' });
  }
  const samples: number[] = [];
  for (let i = 0; i < PER_ROUND; i++) await time(samples, () => client.create(PODS, 'bench', { metadata: { name: `p-${index}-${i}` }, spec: { containers: [RESTRICTED_CONTAINER] } }));
  return samples;
}

const configMaps = { withoutPlugins: [] as number[], withPlugins: [] as number[] };
const pods: Record<PodSetup, number[]> = { none: [], idle: [], enforcing: [] };
for (let r = 0; r < ROUNDS; r++) {
  // Alternate, so machine noise lands on every side.
  configMaps.withoutPlugins.push(...(await configMapRound(false, r)));
  configMaps.withPlugins.push(...(await configMapRound(true, r)));
  for (const setup of ['none', 'idle', 'enforcing'] as const) pods[setup].push(...(await podRound(setup, r)));
}
const ratio = (a: { p50: number }, b: { p50: number }) => Math.round((a.p50 / b.p50) * 1000) / 1000;
const cm = { withoutPlugins: summarize(configMaps.withoutPlugins), withPlugins: summarize(configMaps.withPlugins) };
const pod = { noPlugins: summarize(pods.none), allPluginsNothingConfigured: summarize(pods.idle), allPluginsEnforcing: summarize(pods.enforcing) };
await writeResult('admission-overhead', {
  perRound: PER_ROUND,
  rounds: ROUNDS,
  ...cm,
  p50Ratio: ratio(cm.withPlugins, cm.withoutPlugins),
  podCreates: {
    ...pod,
    p50RatioIdle: ratio(pod.allPluginsNothingConfigured, pod.noPlugins),
    p50RatioEnforcing: ratio(pod.allPluginsEnforcing, pod.noPlugins),
    p99RatioEnforcing: Math.round((pod.allPluginsEnforcing.p99 / pod.noPlugins.p99) * 1000) / 1000,
  },
});
