/** `nautilus nodes`: virtual nodes in this process, joining a running server as kubelets. */
import { parseArgs } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { startRemoteNodes } from '../nodes/remote.js';
import { log } from '../server/log.js';
import { reportUsageError } from './usage.js';
import { KEY_PROVIDER_FLAGS, keyProviderFromFlags } from './key-provider-flags.js';

const USAGE = `Usage: nautilus nodes (--kubeconfig FILE [--pki-dir DIR] | --bootstrap-kubeconfig FILE) --count N [--name-prefix P] [--address 127.0.0.1]
  Runs N virtual kubelets that join the server FILE names, each with its own client certificate
  (system:node:<name>):
  --kubeconfig FILE            issued here from DIR/ca.crt and DIR/ca.key (default: the pki/ beside FILE)
  --bootstrap-kubeconfig FILE  TLS bootstrap: FILE's bootstrap token sends a CertificateSigningRequest
                               per node (approved by csrapproving when the token's group may create
                               certificatesigningrequests/nodeclient) and one kubelet-serving request
                               (approve it with kubectl certificate approve for logs and exec)
  The CA key is sealed with the server's data key: with --kubeconfig give the server's
  --key-provider flags (default local: the data.key beside DIR).
`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        'bootstrap-kubeconfig': { type: 'string' },
        count: { type: 'string', default: '1' },
        'name-prefix': { type: 'string', default: 'remote-node-' },
        'pki-dir': { type: 'string' },
        address: { type: 'string', default: '127.0.0.1' },
        ...KEY_PROVIDER_FLAGS,
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    return reportUsageError(process.stderr, 'nodes', (error as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const count = Number(values.count);
  if (!values.kubeconfig && !values['bootstrap-kubeconfig']) {
    return reportUsageError(process.stderr, 'nodes', '--kubeconfig or --bootstrap-kubeconfig is required');
  }
  if (values.kubeconfig && values['bootstrap-kubeconfig']) {
    return reportUsageError(process.stderr, 'nodes', 'give either --kubeconfig or --bootstrap-kubeconfig, not both');
  }
  if (!Number.isInteger(count) || count < 1 || count > 16_384) {
    return reportUsageError(process.stderr, 'nodes', `--count must be an integer between 1 and 16384, got ${JSON.stringify(values.count)}`);
  }
  const prefix = values['name-prefix']!;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9-])?$/.test(prefix)) {
    return reportUsageError(process.stderr, 'nodes', `--name-prefix must start a valid node name (lower-case letters, digits, '-' and '.'), got ${JSON.stringify(prefix)}`);
  }
  const kubeconfig = values.kubeconfig ? resolve(values.kubeconfig) : undefined;
  const bootstrapKubeconfig = values['bootstrap-kubeconfig'] ? resolve(values['bootstrap-kubeconfig']) : undefined;
  process.on('unhandledRejection', (reason) => log.error('unhandled rejection', { error: reason instanceof Error ? reason.stack : String(reason) }));
  // Issuing from the CA files needs the CA key, sealed with the server's data key; bootstrapping needs neither.
  let pkiDir: string | undefined;
  let dataKey: Buffer | undefined;
  if (kubeconfig) {
    pkiDir = resolve(values['pki-dir'] ?? join(dirname(kubeconfig), 'pki'));
    const keyProvider = await keyProviderFromFlags(values, dirname(pkiDir), 'auto');
    if ('error' in keyProvider) {
      if (keyProvider.usage) return reportUsageError(process.stderr, 'nodes', keyProvider.error);
      process.stderr.write(`error: ${keyProvider.error}\n`);
      return 1;
    }
    dataKey = await keyProvider.provider.dataKey();
  }
  let nodes;
  try {
    nodes = await startRemoteNodes({
      kubeconfig,
      pkiDir,
      dataKey,
      bootstrapKubeconfig,
      count,
      namePrefix: prefix,
      address: values.address!,
    });
    await nodes.pool.registered();
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${count} virtual node(s) registered (${prefix}0…); kubelet endpoints on ${values.address}:${nodes.kubelet.port}\n`);
  await new Promise<void>((resolveStop) => {
    const shutdown = () => void nodes.stop().then(resolveStop);
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  return 0;
}
