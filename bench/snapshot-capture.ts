/**
 * `npm run bench -- snapshot-capture [--objects 150000] [--server NAME=DIR ...]`: what capturing a
 * snapshot's view costs the event loop, `store.snapshotEntries()` over N stored pods, for each
 * checkout (DIR holding dist/; default the current one) in a child process of its own: the
 * synchronous capture's milliseconds and the heap the captured view keeps alive until the writer
 * is done (after forced GCs), five times each. Writes bench/results/snapshot-capture.json.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeResult } from './common.js';
import { splitNamed } from './lib/target.js';

interface Capture {
  ms: number;
  keptMiB: number;
}

async function measure(dir: string, objects: number): Promise<Capture[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const { Store } = await import(pathToFileURL(resolve(dir, 'dist/src/storage/store.js')).href);
  const store = new Store({});
  let pending: Promise<unknown>[] = [];
  for (let i = 0; i < objects; i++) {
    const metadata = { name: `pod-${i}`, namespace: `ns-${i % 1000}` };
    pending.push(store.create('core/pods', `${metadata.namespace}/${metadata.name}`, { apiVersion: 'v1', kind: 'Pod', metadata, spec: { nodeName: `node-${i % 5000}` } }));
    if (pending.length === 1000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  pending = [];
  const captures: Capture[] = [];
  // Released before each run's baseline, so the previous capture is not counted as heap already used.
  let held: { entries: { length: number } } | undefined;
  for (let run = 0; run < 5; run++) {
    held = undefined;
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    held = store.snapshotEntries();
    const ms = performance.now() - started;
    gc();
    const kept = process.memoryUsage().heapUsed - before;
    if (held!.entries.length !== objects) throw new Error(`captured ${held!.entries.length} of ${objects} objects`);
    captures.push({ ms: Math.round(ms * 10) / 10, keptMiB: Math.round((kept / 1048576) * 10) / 10 });
  }
  return captures;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { objects: { type: 'string', default: '150000' }, server: { type: 'string', multiple: true }, child: { type: 'string' } } });
  const objects = Number(values.objects);
  if (values.child) {
    process.stdout.write(JSON.stringify(await measure(values.child, objects)));
    return;
  }
  const targets: Record<string, { source: string; captures: Capture[] }> = {};
  for (const { name, value: dir } of (values.server ?? ['current=.']).map(splitNamed)) {
    const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', resolve(dir), '--objects', String(objects)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    targets[name] = { source: resolve(dir), captures: JSON.parse(out) };
  }
  await writeResult('snapshot-capture', { date: new Date().toISOString(), node: process.version, objects, targets });
}

void main();
