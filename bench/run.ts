/**
 * `npm run bench -- <scenario> [options]`: runs one benchmark scenario of bench/. Scenarios that
 * export `run(argv)` run here; the older single-purpose scripts run as they always have (their
 * options are environment variables). Each prints its figures and writes bench/results/<name>.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const NOT_SCENARIOS = new Set(['common', 'run', 'wal-crash-child', 'wal-crash-workload']);
const scenarios = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !NOT_SCENARIOS.has(f.slice(0, -3)))
  .map((f) => f.slice(0, -3))
  .sort();
/** Scenarios written as modules with a run(argv) export. */
const MODULES: Record<string, () => Promise<{ run(argv: string[]): Promise<void> }>> = {
  'field-manager': () => import('./field-manager.js'),
  load: () => import('./load.js'),
};

async function main(): Promise<number> {
  const [scenario, ...argv] = process.argv.slice(2);
  if (!scenario || scenario === '--help' || scenario === '-h' || !scenarios.includes(scenario)) {
    process.stderr.write(`${scenario && !scenario.startsWith('-') ? `unknown scenario ${JSON.stringify(scenario)}\n` : ''}usage: npm run bench -- <scenario> [options]\nscenarios: ${scenarios.join(', ')}\n`);
    return scenario === '--help' || scenario === '-h' ? 0 : 2;
  }
  const module = MODULES[scenario];
  if (module) {
    await (await module()).run(argv);
    return 0;
  }
  const script = join(here, `${scenario}.js`);
  if (!existsSync(script)) return 2;
  return spawnSync(process.execPath, [script, ...argv], { stdio: 'inherit' }).status ?? 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
