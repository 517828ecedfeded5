/**
 * What the extensibility admission plugins (webhooks, ValidatingAdmissionPolicy) cost a built-in
 * write when none is configured: in-process ConfigMap creates through the generic store, with
 * the plugins and without, alternating rounds in one process. Bounded; prints and writes JSON.
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
import { CONFIG_MAPS, NAMESPACES } from '../src/client/resource-types.js';
import { summarize, writeResult } from './common.js';

const PER_ROUND = Number(process.argv[2] ?? 5000);
const ROUNDS = 6;

async function round(withPlugins: boolean, index: number): Promise<number[]> {
  let registry: Registry | undefined;
  const plugins = withPlugins ? defaultAdmissionPlugins({ registry: () => registry! }) : [];
  registry = new Registry(allKinds, new Store(), { admission: new AdmissionChain(plugins) });
  const client = new InProcessClient({ registry, user: LOOPBACK_USER, fieldManager: 'bench' });
  await client.create(NAMESPACES, undefined, { metadata: { name: 'bench' } });
  const samples: number[] = [];
  for (let i = 0; i < PER_ROUND; i++) {
    const started = process.hrtime.bigint();
    await client.create(CONFIG_MAPS, 'bench', { metadata: { name: `cm-${index}-${i}` }, data: { key: 'value' } });
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples;
}

const without: number[] = [];
const withPlugins: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  // Alternate, so machine noise lands on both sides.
  without.push(...(await round(false, r)));
  withPlugins.push(...(await round(true, r)));
}
const result = { perRound: PER_ROUND, rounds: ROUNDS, withoutPlugins: summarize(without), withPlugins: summarize(withPlugins) };
await writeResult('admission-overhead', { ...result, p50Ratio: Math.round((result.withPlugins.p50 / result.withoutPlugins.p50) * 1000) / 1000 });
