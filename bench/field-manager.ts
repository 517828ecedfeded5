/**
 * `npm run bench -- field-manager`: managedFields recording alone, in process, up to the JSON text
 * the store keeps (recordUpdate, then serialized), on the writes the load scenario makes: a pod created as a ReplicaSet would (no previous object), its
 * status written through pods/status as a kubelet would, then a label patch by another manager.
 *
 * The inputs are captured from a real registry over a real store (defaults, typed round trip,
 * the stored object's managedFields as a lazy reader of its bytes), so recordUpdate sees exactly
 * what the server hands it. Every input is used once per implementation and round: caches of
 * earlier inputs help only as much as pods sharing a template help on a real server.
 *
 *   node dist/bench/field-manager.js [--pods 1000] [--rounds 5] [--lag 50] [--baseline DIR] [--only current|baseline] [--out field-manager]
 *
 * --lag: writes are replayed in the server's order, pod i's status `lag` creates after its
 * create and its label patch as many writes later (other pods' writes in between).
 *
 * --baseline DIR: another checkout's built dist/ (e.g. main) timed in the same process,
 * interleaved round by round with this one, on the same inputs; their outputs are compared too.
 * Two pod families: `template` (pods of a few ReplicaSets: the same field structure, as on a
 * real cluster) and `distinct` (a label key of its own per pod, so no two managedFields match).
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildKindSchemas } from '../src/api/schemas.js';
import { deepCopy, defineLazyJsonMember, type KubeObject } from '../src/api/object.js';
import * as fieldManager from '../src/api/apply/index.js';
import { recordUpdateJson, type UpdateParams } from '../src/api/apply/index.js';
import { allKinds } from '../src/registry/catalog.js';
import { Registry } from '../src/registry/registry.js';
import { Store } from '../src/storage/store.js';
import { latencyFigures, textTable, type LatencyFigures } from './lib/stats.js';
import * as objects from './lib/objects.js';
import { writeResult } from './common.js';

/** What the server stores for a write: the managedFields' JSON text, or undefined for none. */
type RecordUpdate = (params: UpdateParams) => string | undefined;

interface FieldManagerModule {
  recordUpdate(params: UpdateParams): unknown[];
  recordUpdateJson?(params: UpdateParams): string | undefined;
}

/** A checkout before recordUpdateJson built the entries, which the store then serialized. */
function storedText(module: FieldManagerModule): RecordUpdate {
  if (module.recordUpdateJson) return module.recordUpdateJson;
  return (params) => {
    const entries = module.recordUpdate(params);
    return entries.length > 0 ? JSON.stringify(entries) : undefined;
  };
}
const OPERATIONS = ['create', 'status', 'label'] as const;
type Operation = (typeof OPERATIONS)[number];
const FAMILIES = ['template', 'distinct'] as const;
type Family = (typeof FAMILIES)[number];
const NOW = '2026-12-03T12:00:00Z';

/** recordUpdate's inputs for `count` pods: one create, one status write and one label patch each. */
async function captureWrites(family: Family, count: number, offset: number): Promise<Record<Operation, UpdateParams[]>> {
  const captured: Record<Operation, UpdateParams[]> = { create: [], status: [], label: [] };
  let operation: Operation = 'create';
  const schemas = buildKindSchemas(allKinds);
  const registry: Registry = new Registry(allKinds, new Store(), {
    typedRoundTrip: (strategy, object) => schemas.dropOmitted(strategy, object),
    recordManagedFields: ({ object, old, strategy, manager, subresource }) => {
      const params: UpdateParams = { live: old, updated: object, manager, subresource, apiVersion: 'v1', schema: schemas.patchSchema(strategy), now: NOW };
      // A private copy of what recordUpdate is given: the hook changes the object afterwards.
      captured[operation].push({ ...params, updated: deepCopy(object) });
      // As the server's hook (control-plane.ts) stores them.
      const managedFields = recordUpdateJson(params);
      if (managedFields !== undefined) defineLazyJsonMember(object.metadata, 'managedFields', managedFields);
      else delete object.metadata.managedFields;
    },
  });
  const pods = registry.of('', 'pods');
  const shape: objects.ClusterShape = { nodes: 100, pods: count, namespaces: 10, podsPerReplicaSet: 20 };
  for (let i = offset; i < offset + count; i++) {
    const place = objects.podPlace(shape, i);
    const pod = objects.pod(place, { name: `${place.app}-rs${place.replicaSet}`, uid: `00000000-0000-4000-8000-${String(place.replicaSet).padStart(12, '0')}` }) as KubeObject & { metadata: { labels: Record<string, string> } };
    if (family === 'distinct') pod.metadata.labels[`bench.nautilus.dev/pod-${i}`] = 'true';
    operation = 'create';
    const created = (await pods.create(pod as never, { fieldManager: 'kube-controller-manager' })).object as KubeObject;
    operation = 'status';
    const withStatus = { ...deepCopy(created), status: { ...(created.status as object), ...objects.runningPodStatus(i).status } };
    const running = (await pods.update(place.namespace, place.name, withStatus as never, { subresource: 'status', fieldManager: 'kubelet' })).object as KubeObject;
    operation = 'label';
    const labelled = deepCopy(running) as KubeObject & { metadata: { labels: Record<string, string> } };
    labelled.metadata.labels['bench.nautilus.dev/checked'] = String(i % 7);
    await pods.update(place.namespace, place.name, labelled as never, { fieldManager: 'kubectl-label' });
  }
  return captured;
}

function timeOne(record: RecordUpdate, params: UpdateParams, samples: number[]): string | undefined {
  const start = process.hrtime.bigint();
  const managedFields = record(params);
  samples.push(Number(process.hrtime.bigint() - start) / 1000);
  return managedFields;
}

async function loadBaseline(dir: string): Promise<RecordUpdate> {
  return storedText((await import(pathToFileURL(resolve(dir, 'dist/src/api/apply/index.js')).href)) as FieldManagerModule);
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      pods: { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '5' },
      lag: { type: 'string', default: '50' },
      baseline: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string', default: 'field-manager' },
    },
  });
  const podsPerRound = Number(values.pods);
  const rounds = Number(values.rounds);
  const lag = Number(values.lag);
  const implementations: [string, RecordUpdate][] = [];
  if (values.only !== 'baseline') implementations.push(['current', storedText(fieldManager)]);
  if (values.baseline && values.only !== 'current') implementations.push(['baseline', await loadBaseline(values.baseline)]);
  const loadBefore = loadavg()[0]!;

  const results: Record<string, Record<string, Record<Operation, LatencyFigures & { meanMicros: number }>>> = {};
  let mismatches = 0;
  for (const family of FAMILIES) {
    // Every round its own pods, so no round replays inputs an earlier one cached.
    const inputs: Record<Operation, UpdateParams[]>[] = [];
    for (let round = 0; round < rounds; round++) inputs.push(await captureWrites(family, podsPerRound, round * podsPerRound));
    const samples = new Map(implementations.map(([name]) => [name, { create: [] as number[], status: [] as number[], label: [] as number[] }]));
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first: neither always runs on a warmer (or busier) machine.
      const order = round % 2 === 0 ? implementations : [...implementations].reverse();
      const writes = inputs[round]!;
      // As on a server: pod i's status comes `lag` creates after its create, its label patch as
      // many writes later, other pods' writes in between. Each implementation replays the whole
      // round in turn (interleaving single writes would charge each with the other's garbage).
      const sequence: [Operation, UpdateParams][] = [];
      for (let step = 0; step < podsPerRound + 2 * lag; step++) {
        for (const [operation, pod] of [['create', step], ['status', step - lag], ['label', step - 2 * lag]] as const) {
          const params = writes[operation][pod];
          if (params !== undefined) sequence.push([operation, params]);
        }
      }
      const outputs = order.map(([name, record]) => sequence.map(([operation, params]) => timeOne(record, params, samples.get(name)![operation])));
      for (const other of outputs.slice(1)) mismatches += other.filter((output, k) => output !== outputs[0]![k]).length;
    }
    results[family] = {};
    for (const [name] of implementations) {
      const byOperation = samples.get(name)!;
      const figures = {} as Record<Operation, LatencyFigures & { meanMicros: number }>;
      for (const operation of OPERATIONS) {
        // The first round warms the JIT (and the caches): it is left out.
        const kept = byOperation[operation].slice(podsPerRound);
        figures[operation] = { ...latencyFigures(kept), meanMicros: Math.round((kept.reduce((a, b) => a + b, 0) / kept.length) * 10) / 10 };
      }
      results[family][name] = figures;
    }
  }

  const rows: (string | number)[][] = [['recordUpdate, µs per call', ...implementations.flatMap(([name]) => [`${name} p50`, `${name} p99`, `${name} mean`])]];
  for (const family of FAMILIES) {
    for (const operation of OPERATIONS) {
      rows.push([`${family} ${operation}`, ...implementations.flatMap(([name]) => {
        const f = results[family]![name]![operation];
        return [f.p50, f.p99, f.meanMicros];
      })]);
    }
  }
  console.log(textTable(rows));
  if (implementations.length > 1) console.log(mismatches === 0 ? 'outputs: byte-identical on every input' : `outputs: ${mismatches} inputs DIFFER`);
  await writeResult(values.out!, {
    benchmark: `recordUpdate up to the stored text, per call (µs), in process, ${rounds} rounds of ${podsPerRound} pods per family (first round left out), implementations in turn per round (alternating who goes first), status ${lag} creates after its create`,
    lagPods: lag,
    node: process.version,
    loadAverage1m: { before: +loadBefore.toFixed(2), after: +loadavg()[0]!.toFixed(2) },
    baseline: values.baseline,
    outputMismatches: implementations.length > 1 ? mismatches : undefined,
    results,
  });
  if (mismatches > 0) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run(process.argv.slice(2)).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
