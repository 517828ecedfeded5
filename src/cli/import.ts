/**
 * `nautilus import --from-kubeconfig FILE`: copies an existing cluster's objects into Nautilus
 * (see src/migration/plan.ts for what is carried, what is left, and the order).
 */
import { parseArgs } from 'node:util';
import { HttpClient } from '../client/http.js';
import { importObjects } from '../migration/import.js';
import { Progress, type ProgressMode } from '../migration/progress.js';
import { readSource } from '../migration/read.js';
import { reportUsageError } from './usage.js';

const USAGE = `Usage:
  nautilus import --from-kubeconfig FILE [--context NAME] [--namespace NS ...]
                  [--kubeconfig DEST] [--dry-run] [--progress bar|lines|none]

Reads every object of the cluster FILE points at (all served kinds and custom resources) and
creates it in the Nautilus server DEST points at (default .nautilus/admin.kubeconfig), in
dependency order: namespaces, CRDs, policy, RBAC, service accounts, config, storage, workloads,
services, everything else, admission webhooks last. Server-set fields (uid, resourceVersion,
generation, creationTimestamp, managedFields) and status under a status subresource are not
carried; objects managed by a controller, events, nodes, leases and service-account tokens stay
behind; objects that already exist are skipped, not changed.
  --namespace NS   only these namespaces (repeatable) and their contents
  --dry-run        read and plan, write nothing
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'from-kubeconfig': { type: 'string' },
      context: { type: 'string' },
      namespace: { type: 'string', multiple: true, short: 'n' },
      kubeconfig: { type: 'string', default: '.nautilus/admin.kubeconfig' },
      'dry-run': { type: 'boolean', default: false },
      progress: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values['from-kubeconfig']) return reportUsageError(process.stderr, 'import', '--from-kubeconfig FILE is required');
  const mode = (values.progress ?? Progress.defaultMode()) as ProgressMode;
  if (!['bar', 'lines', 'none'].includes(mode)) {
    return reportUsageError(process.stderr, 'import', `--progress must be bar, lines or none, got ${JSON.stringify(mode)}`);
  }
  const source = HttpClient.fromKubeconfig(values['from-kubeconfig'], { userAgent: 'nautilus-import' }, values.context);
  const destination = HttpClient.fromKubeconfig(values.kubeconfig!, { userAgent: 'nautilus-import' });
  try {
    const state = await readSource(source, values.namespace ?? []);
    process.stderr.write(`read ${state.objects.length + state.skipped.length} objects; importing ${state.objects.length}\n`);
    const progress = new Progress(state.objects.length, mode);
    const result = await importObjects(destination, state.objects, progress, { dryRun: values['dry-run'] });
    const skipped = [...state.skipped, ...result.skipped];
    const verb = values['dry-run'] ? 'would import' : 'imported';
    process.stdout.write(`${verb}: ${result.imported.length}, skipped: ${skipped.length}, failed: ${result.failed.length}\n`);
    for (const { resource, reason } of state.resourcesLeft) process.stdout.write(`  not read: ${resource} (${reason})\n`);
    const reasons = new Map<string, string[]>();
    for (const { what, reason } of skipped) reasons.set(reason, [...(reasons.get(reason) ?? []), what]);
    for (const [reason, whats] of reasons) process.stdout.write(`  skipped ${whats.length} (${reason}): ${whats.slice(0, 5).join(', ')}${whats.length > 5 ? ', …' : ''}\n`);
    for (const { what, reason } of result.failed) process.stdout.write(`  failed: ${what}: ${reason}\n`);
    for (const note of result.notes) process.stdout.write(`  note: ${note}\n`);
    return result.failed.length > 0 ? 1 : 0;
  } finally {
    source.close();
    destination.close();
  }
}
