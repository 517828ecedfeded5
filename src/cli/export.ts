/** `nautilus export DIR`: the cluster as YAML files that `kubectl apply -f DIR -R` loads anywhere. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HttpClient } from '../client/http.js';
import { writeExport } from '../migration/export.js';
import { readSource } from '../migration/read.js';
import { reportUsageError } from './usage.js';

const USAGE = `Usage:
  nautilus export DIR [--kubeconfig SRC] [--context NAME] [--namespace NS ...]

Writes every object of the cluster SRC points at (default .nautilus/admin.kubeconfig) as YAML,
DIR/<namespace>/<NN>-<kind>.yaml and DIR/_cluster/ for cluster-scoped objects, the same objects
and fields \`nautilus import\` carries (owner references left out). Load them with
  kubectl apply -f DIR -R
(custom resources map only once their CRDs are established: apply their files, or DIR, again).
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string', default: '.nautilus/admin.kubeconfig' },
      context: { type: 'string' },
      namespace: { type: 'string', multiple: true, short: 'n' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) return reportUsageError(process.stderr, 'export', 'give one output DIR');
  const source = HttpClient.fromKubeconfig(values.kubeconfig!, { userAgent: 'nautilus-export' }, values.context);
  try {
    const state = await readSource(source, values.namespace ?? []);
    const files = await writeExport(resolve(positionals[0]), state.objects);
    process.stdout.write(`exported: ${state.objects.length} objects in ${files.length} files under ${resolve(positionals[0])}, skipped: ${state.skipped.length}\n`);
    return 0;
  } finally {
    source.close();
  }
}
