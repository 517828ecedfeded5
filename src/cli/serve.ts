/** `nautilus serve`: runs the control plane until interrupted. */
import { parseArgs } from 'node:util';
import { startControlPlane } from '../server/control-plane.js';
import { allKinds } from '../registry/catalog.js';
import { configureLogging, log, parseVerbosity } from '../server/log.js';
import type { ProviderName } from '../tee/provider.js';
import { IntegrityError } from '../storage/wal/index.js';
import { parseQuantity } from '../registry/common/validation.js';
import { allControllers } from '../controllers/index.js';
import { ControllerManager, parseControllerFlag } from '../controllers/manager.js';
import { parseFeatureGates } from '../controllers/feature-gates.js';
import { OidcAuthenticator } from '../auth/oidc.js';
import { reportUsageError } from './usage.js';
import { loadSchedulerConfiguration, type ResolvedConfiguration as SchedulerConfiguration } from '../scheduler/config.js';
import { loadEncryptionConfiguration, type EncryptionConfiguration } from '../storage/encryption/configuration.js';
import { KEY_PROVIDER_FLAGS, keyProviderFromFlags } from './key-provider-flags.js';
import { resolve } from 'node:path';

const TEE_CHOICES: readonly ProviderName[] = ['auto', 'nitro', 'tdx', 'sev-snp', 'simulated', 'none'];

/** kcm's per-controller worker flags, e.g. --concurrent-deployment-syncs. */
const WORKER_FLAGS = allControllers.flatMap((controller) => (controller.workersFlag ? [controller.workersFlag] : []));
/** Other kcm flags controllers read, e.g. --node-monitor-grace-period, --terminated-pod-gc-threshold. */
const SETTING_FLAGS = [...new Map(allControllers.flatMap((controller) => controller.flags ?? []).map((flag) => [flag.name, flag])).values()];

/** A flag of `serve`: its parseArgs configuration and what `serve --help` says about it. */
interface FlagEntry {
  readonly type: 'string' | 'boolean';
  readonly default?: string | boolean;
  readonly multiple?: boolean;
  readonly short?: string;
  /** The section of --help it is listed in. */
  readonly group: string;
  /** What a value looks like in --help (string flags). */
  readonly value?: string;
  readonly help: string;
}

/**
 * Every flag `serve` accepts, in one table: the parser reads it (parseArgs ignores the help
 * fields) and --help is generated from it, so the two cannot drift apart.
 */
const FLAGS = {
  port: { type: 'string', default: '6443', group: 'serving', value: 'PORT', help: 'HTTPS port (0 picks a free one)' },
  address: { type: 'string', default: '127.0.0.1', group: 'serving', value: 'IP', help: 'address to listen on (0.0.0.0 for every interface)' },
  'data-dir': { type: 'string', default: '.nautilus', group: 'serving', value: 'DIR', help: 'state, keys, PKI and admin.kubeconfig' },
  'tls-cert-file': { type: 'string', group: 'serving', value: 'FILE', help: 'serving certificate (PEM, chain allowed) instead of one issued at start; reloaded when it changes' },
  'tls-private-key-file': { type: 'string', group: 'serving', value: 'FILE', help: 'the key of --tls-cert-file' },
  ephemeral: { type: 'boolean', default: false, group: 'serving', help: 'keep state in memory only' },
  tee: { type: 'string', default: 'auto', group: 'serving', value: TEE_CHOICES.join('|'), help: 'trusted execution environment providing keys and attestation' },
  ...KEY_PROVIDER_FLAGS,
  'recover-to-checkpoint': { type: 'boolean', default: false, group: 'serving', help: 'after a failed integrity check, drop what follows the last signed checkpoint' },
  'memory-budget': { type: 'string', default: '2Gi', group: 'serving', value: 'QUANTITY', help: 'bytes stored objects may take; past it writes answer 507' },
  'token-auth-file': { type: 'string', group: 'authentication', value: 'FILE', help: 'static bearer tokens (CSV: token,user,uid,"group1,group2")' },
  'enable-bootstrap-token-auth': { type: 'boolean', default: false, group: 'authentication', help: 'accept bootstrap tokens (bootstrap.kubernetes.io/token Secrets in kube-system) as system:bootstrappers' },
  'anonymous-auth': { type: 'string', default: 'true', group: 'authentication', value: 'true|false', help: 'treat requests without credentials as system:anonymous' },
  'service-account-issuer': { type: 'string', multiple: true, group: 'authentication', value: 'URL', help: 'issuer of service-account tokens (the first signs)' },
  'api-audiences': { type: 'string', group: 'authentication', value: 'A,B', help: 'audiences service-account tokens must carry' },
  'oidc-issuer-url': { type: 'string', group: 'OIDC', value: 'URL', help: 'OpenID Connect issuer (with --oidc-client-id and --oidc-jwks-file)' },
  'oidc-client-id': { type: 'string', group: 'OIDC', value: 'ID', help: 'audience OIDC ID tokens must carry' },
  'oidc-jwks-file': { type: 'string', group: 'OIDC', value: 'FILE', help: "the issuer's signing keys (JWKS)" },
  'oidc-username-claim': { type: 'string', group: 'OIDC', value: 'CLAIM', help: 'claim naming the user (upstream default: sub)' },
  'oidc-username-prefix': { type: 'string', group: 'OIDC', value: 'PREFIX', help: 'prefix for user names' },
  'oidc-groups-claim': { type: 'string', group: 'OIDC', value: 'CLAIM', help: "claim listing the user's groups" },
  'oidc-groups-prefix': { type: 'string', group: 'OIDC', value: 'PREFIX', help: 'prefix for group names' },
  'oidc-required-claim': { type: 'string', multiple: true, group: 'OIDC', value: 'KEY=VALUE', help: 'claim a token must carry' },
  'oidc-signing-algs': { type: 'string', group: 'OIDC', value: 'ALG,ALG', help: 'accepted signing algorithms (upstream default: RS256)' },
  controllers: { type: 'string', default: '*', group: 'controllers', value: 'NAME,-NAME,*', help: 'controllers to run, as kube-controller-manager --controllers' },
  'feature-gates': { type: 'string', default: '', group: 'controllers', value: 'Gate=true,…', help: 'feature gates' },
  storage: { type: 'string', default: 'local', group: 'storage', value: 'local|etcd', help: 'sealed local log, or etcd shared by replicas' },
  'etcd-endpoints': { type: 'string', group: 'storage', value: 'URL,URL', help: 'etcd servers (with --storage etcd)' },
  'etcd-cafile': { type: 'string', group: 'storage', value: 'FILE', help: "CA of etcd's serving certificate" },
  'etcd-certfile': { type: 'string', group: 'storage', value: 'FILE', help: 'client certificate for etcd' },
  'etcd-keyfile': { type: 'string', group: 'storage', value: 'FILE', help: 'client key for etcd' },
  'etcd-prefix': { type: 'string', default: '/nautilus/', group: 'storage', value: 'PREFIX', help: 'key prefix, so clusters can share an etcd' },
  'etcd-lease-ttl': { type: 'string', default: '2', group: 'storage', value: 'SECONDS', help: 'leader lease of the replicas' },
  'etcd-snapshot-every': { type: 'string', default: '50000', group: 'storage', value: 'WRITES', help: 'writes between snapshots in etcd' },
  join: { type: 'string', group: 'storage', value: 'https://REPLICA', help: 'get the data key and CA from a running replica by attestation' },
  'join-policy': { type: 'string', group: 'storage', value: 'FILE', help: 'measurements a joining replica must attest to' },
  'allow-simulated': { type: 'boolean', default: false, group: 'storage', help: 'let the join policy accept the simulated provider (not a TEE)' },
  'virtual-nodes': { type: 'string', default: '0', group: 'nodes', value: 'N', help: 'simulated kubelets in this process' },
  'scheduler-config': { type: 'string', group: 'scheduler', value: 'FILE', help: 'a KubeSchedulerConfiguration' },
  'disable-scheduler': { type: 'boolean', default: false, group: 'scheduler', help: 'run no scheduler' },
  'max-requests-inflight': { type: 'string', default: '400', group: 'flow control', value: 'N', help: 'read requests served at once (0: no limit)' },
  'max-mutating-requests-inflight': { type: 'string', default: '200', group: 'flow control', value: 'N', help: 'mutating requests served at once (0: no limit)' },
  'enable-priority-and-fairness': { type: 'string', default: 'true', group: 'flow control', value: 'true|false', help: 'API Priority and Fairness instead of the plain inflight limits' },
  'audit-log-path': { type: 'string', group: 'audit', value: 'FILE|-', help: 'where audit events go (- for stdout)' },
  'audit-policy-file': { type: 'string', group: 'audit', value: 'FILE', help: 'an audit.k8s.io Policy' },
  'audit-log-maxsize': { type: 'string', default: '0', group: 'audit', value: 'MB', help: 'rotate the audit log file at this size (0: 100, as upstream)' },
  'audit-log-maxbackup': { type: 'string', default: '0', group: 'audit', value: 'N', help: 'rotated audit log files kept (0: all)' },
  'audit-log-maxage': { type: 'string', default: '0', group: 'audit', value: 'DAYS', help: 'days a rotated audit log file is kept (0: no limit)' },
  'audit-log-compress': { type: 'boolean', default: false, group: 'audit', help: 'gzip rotated audit log files' },
  'encryption-provider-config': { type: 'string', group: 'encryption at rest', value: 'FILE', help: 'an EncryptionConfiguration (aesgcm, aescbc, identity) for Secrets and any listed resource' },
  'log-format': { type: 'string', group: 'logs', value: 'json|text', help: 'default: text on a terminal, json otherwise (or NAUTILUS_LOG)' },
  v: { type: 'string', short: 'v', default: '0', group: 'logs', value: 'N', help: 'klog verbosity 0-10; 3 logs every request with its latency' },
  help: { type: 'boolean', short: 'h', default: false, group: 'help', help: 'print this help' },
} as const satisfies Record<string, FlagEntry>;

/** A controller's default in the flag's own units: durations as upstream writes them (40s, 5m0s). */
function controllerDefault(flag: { kind: string; default: number }): string {
  if (flag.kind !== 'duration') return String(flag.default);
  const seconds = flag.default / 1000;
  return seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60}m0s` : `${seconds}s`;
}

/** The controllers' kcm flags: no parser default (the controller's own applies), shown in --help. */
const CONTROLLER_FLAGS: Record<string, FlagEntry & { readonly type: 'string' }> = Object.fromEntries([
  ...WORKER_FLAGS.map((flag) => [flag.name, { type: 'string', group: 'controllers', value: 'N', help: `workers (default: ${flag.default})` }] as const),
  ...SETTING_FLAGS.map((flag) => [flag.name, { type: 'string', group: 'controllers', value: flag.kind === 'duration' ? 'DURATION' : 'N', help: `${flag.description.replace(/\.$/, '')} (default: ${controllerDefault(flag)})` }] as const),
]);

/** The options `serve` parses: the table above plus the controllers' flags. */
export function serveOptions() {
  return { ...FLAGS, ...CONTROLLER_FLAGS };
}

/** `serve --help`, generated from the flag table. */
export function serveHelp(): string {
  const groups = new Map<string, string[]>();
  const flags = (Object.entries(serveOptions()) as [string, FlagEntry][]).map(([name, flag]) => ({
    flag,
    spelled: `${flag.short && flag.short !== name ? `-${flag.short}, ` : ''}${name.length === 1 ? '-' : '--'}${name}${flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : ''}`,
  }));
  const width = Math.max(...flags.map(({ spelled }) => spelled.length));
  for (const { flag, spelled } of flags) {
    const shown = flag.default === undefined ? '' : ` (default: ${flag.default === '' ? '""' : String(flag.default)})`;
    const repeat = flag.multiple ? ' [repeatable]' : '';
    const line = `  ${spelled.padEnd(width)}  ${flag.help}${shown}${repeat}`;
    groups.set(flag.group, [...(groups.get(flag.group) ?? []), line]);
  }
  const sections = [...groups].map(([group, lines]) => `${group}:\n${lines.join('\n')}`);
  return `Usage: nautilus serve [flags]   (from a checkout: npm start -- [flags])\n\n${sections.join('\n\n')}\n\nFlags take --name VALUE or --name=VALUE. Logs: NAUTILUS_LOG=json|text, NAUTILUS_LOG_LEVEL=error, NAUTILUS_DEBUG=1.\n`;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: serveOptions(), strict: true });
  if (values.help) {
    process.stdout.write(serveHelp());
    return 0;
  }
  const verbosity = parseVerbosity(values.v!);
  if (verbosity === undefined) {
    return reportUsageError(process.stderr, 'serve', `-v must be a level from 0 to 10, got ${JSON.stringify(values.v)}`);
  }
  const logFormat = values['log-format'];
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'text') {
    return reportUsageError(process.stderr, 'serve', `--log-format must be json or text, got ${JSON.stringify(logFormat)}`);
  }
  configureLogging({ verbosity, format: logFormat });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return reportUsageError(process.stderr, 'serve', `--port must be a number between 0 and 65535, got ${JSON.stringify(values.port)}`);
  }
  const memoryBudget = parseQuantity(values['memory-budget']);
  if (!Number.isFinite(memoryBudget) || memoryBudget <= 0) {
    return reportUsageError(process.stderr, 'serve', `--memory-budget must be a positive quantity such as 2Gi or 512Mi, got ${JSON.stringify(values['memory-budget'])}`);
  }
  const tee = values.tee as ProviderName;
  if (!TEE_CHOICES.includes(tee)) {
    return reportUsageError(process.stderr, 'serve', `--tee must be one of ${TEE_CHOICES.join(', ')}, got ${JSON.stringify(values.tee)}`);
  }
  if (Boolean(values['tls-cert-file']) !== Boolean(values['tls-private-key-file'])) {
    return reportUsageError(process.stderr, 'serve', '--tls-cert-file and --tls-private-key-file go together');
  }
  const anonymous = String(values['anonymous-auth']).toLowerCase();
  if (anonymous !== 'true' && anonymous !== 'false') {
    return reportUsageError(process.stderr, 'serve', `--anonymous-auth must be true or false, got ${JSON.stringify(values['anonymous-auth'])}`);
  }
  let oidc: OidcAuthenticator | undefined;
  try {
    oidc = OidcAuthenticator.fromFlags({
      issuerUrl: values['oidc-issuer-url'],
      clientId: values['oidc-client-id'],
      jwksFile: values['oidc-jwks-file'],
      usernameClaim: values['oidc-username-claim'],
      usernamePrefix: values['oidc-username-prefix'],
      groupsClaim: values['oidc-groups-claim'],
      groupsPrefix: values['oidc-groups-prefix'],
      requiredClaims: values['oidc-required-claim'],
      signingAlgorithms: values['oidc-signing-algs'],
    });
  } catch (error) {
    return reportUsageError(process.stderr, 'serve', (error as Error).message);
  }
  const controllers = String(values.controllers).split(',');
  try {
    ControllerManager.enabled(allControllers, controllers);
  } catch (error) {
    return reportUsageError(process.stderr, 'serve', (error as Error).message);
  }
  let featureGates: Record<string, boolean>;
  try {
    featureGates = parseFeatureGates(String(values['feature-gates']));
  } catch (error) {
    return reportUsageError(process.stderr, 'serve', `--feature-gates: ${(error as Error).message}`);
  }
  const storage = values.storage;
  if (storage !== 'local' && storage !== 'etcd') {
    return reportUsageError(process.stderr, 'serve', `--storage must be local or etcd, got ${JSON.stringify(storage)}`);
  }
  const positive = (flag: 'etcd-lease-ttl' | 'etcd-snapshot-every'): number | undefined => {
    const value = Number(values[flag]);
    return Number.isInteger(value) && value >= 1 ? value : undefined;
  };
  const leaseTtlSeconds = positive('etcd-lease-ttl');
  const snapshotEveryMutations = positive('etcd-snapshot-every');
  if (leaseTtlSeconds === undefined || snapshotEveryMutations === undefined) {
    return reportUsageError(process.stderr, 'serve', '--etcd-lease-ttl and --etcd-snapshot-every must be positive integers');
  }
  const endpoints = (values['etcd-endpoints'] ?? '').split(',').map((endpoint) => endpoint.trim()).filter(Boolean);
  if (storage === 'etcd' && endpoints.length === 0) {
    return reportUsageError(process.stderr, 'serve', '--storage etcd needs --etcd-endpoints https://HOST:2379[,…]');
  }
  if (storage === 'local' && (endpoints.length > 0 || values.join || values['join-policy'])) {
    return reportUsageError(process.stderr, 'serve', '--etcd-endpoints, --join and --join-policy need --storage etcd');
  }
  const virtualNodes = Number(values['virtual-nodes']);
  if (!Number.isInteger(virtualNodes) || virtualNodes < 0 || virtualNodes > 16_384) {
    return reportUsageError(process.stderr, 'serve', `--virtual-nodes must be an integer between 0 and 16384, got ${JSON.stringify(values['virtual-nodes'])}`);
  }
  const inflight = (flag: 'max-requests-inflight' | 'max-mutating-requests-inflight'): number | undefined => {
    const value = Number(values[flag]);
    return Number.isInteger(value) && value >= 0 ? value : undefined;
  };
  const auditRotation = {
    maxSizeMiB: Number(values['audit-log-maxsize']),
    maxBackups: Number(values['audit-log-maxbackup']),
    maxAgeDays: Number(values['audit-log-maxage']),
  };
  if (!Object.values(auditRotation).every((value) => Number.isInteger(value) && value >= 0)) {
    return reportUsageError(process.stderr, 'serve', '--audit-log-maxsize, --audit-log-maxbackup and --audit-log-maxage must be non-negative integers');
  }
  const auditLogCompress = values['audit-log-compress'] === true;
  const maxRequestsInflight = inflight('max-requests-inflight');
  const maxMutatingRequestsInflight = inflight('max-mutating-requests-inflight');
  if (maxRequestsInflight === undefined || maxMutatingRequestsInflight === undefined) {
    return reportUsageError(process.stderr, 'serve', '--max-requests-inflight and --max-mutating-requests-inflight must be non-negative integers');
  }
  const priorityAndFairness = String(values['enable-priority-and-fairness']).toLowerCase();
  if (priorityAndFairness !== 'true' && priorityAndFairness !== 'false') {
    return reportUsageError(process.stderr, 'serve', `--enable-priority-and-fairness must be true or false, got ${JSON.stringify(values['enable-priority-and-fairness'])}`);
  }
  const controllerWorkers: Record<string, number> = {};
  for (const flag of WORKER_FLAGS) {
    const value = (values as Record<string, unknown>)[flag.name];
    if (value === undefined) continue;
    const workers = Number(value);
    if (!Number.isInteger(workers) || workers < 1) {
      return reportUsageError(process.stderr, 'serve', `--${flag.name} must be a positive integer, got ${JSON.stringify(value)}`);
    }
    controllerWorkers[flag.name] = workers;
  }
  let scheduler: SchedulerConfiguration | false | undefined;
  try {
    if (values['disable-scheduler']) scheduler = false;
    else if (values['scheduler-config']) scheduler = loadSchedulerConfiguration(values['scheduler-config']);
  } catch (error) {
    return reportUsageError(process.stderr, 'serve', (error as Error).message);
  }
  let encryption: EncryptionConfiguration | undefined;
  try {
    if (values['encryption-provider-config']) encryption = loadEncryptionConfiguration(values['encryption-provider-config']);
  } catch (error) {
    return reportUsageError(process.stderr, 'serve', (error as Error).message);
  }
  const controllerSettings: Record<string, number | boolean> = { ...featureGates };
  for (const flag of SETTING_FLAGS) {
    const value = (values as Record<string, unknown>)[flag.name];
    if (value === undefined) continue;
    const parsed = parseControllerFlag(flag, String(value));
    if (parsed === undefined) {
      return reportUsageError(process.stderr, 'serve', `--${flag.name} must be ${flag.kind === 'duration' ? 'a duration such as 40s or 5m' : 'a non-negative number'}, got ${JSON.stringify(value)}`);
    }
    controllerSettings[flag.name] = parsed;
  }
  // Opened before anything touches the data dir: a missing TEE device or setting stops here.
  const keyProvider = await keyProviderFromFlags(values, resolve(values['data-dir']!), tee);
  if ('error' in keyProvider) {
    if (keyProvider.usage) return reportUsageError(process.stderr, 'serve', keyProvider.error);
    process.stderr.write(`error: refusing to start: ${keyProvider.error}\n`);
    return 1;
  }
  // A request's stray rejected promise must not take every other client down with it.
  process.on('unhandledRejection', (reason) => log.error('unhandled rejection', { error: reason instanceof Error ? reason.stack : String(reason) }));
  let controlPlane;
  try {
    controlPlane = await startControlPlane({
      address: values.address!,
      port,
      dataDir: values['data-dir']!,
      kinds: allKinds,
      tee,
      keyProvider: keyProvider.provider,
      ephemeral: values.ephemeral,
      recoverToCheckpoint: values['recover-to-checkpoint'],
      memoryBudget,
      tokenAuthFile: values['token-auth-file'],
      enableBootstrapTokenAuth: values['enable-bootstrap-token-auth'],
      anonymousAuth: anonymous === 'true',
      serviceAccountIssuers: values['service-account-issuer'],
      apiAudiences: values['api-audiences']?.split(',').map((a) => a.trim()).filter(Boolean),
      oidc,
      controllers,
      controllerWorkers,
      controllerSettings,
      storage,
      etcd: {
        endpoints,
        caFile: values['etcd-cafile'],
        certFile: values['etcd-certfile'],
        keyFile: values['etcd-keyfile'],
        prefix: values['etcd-prefix'],
        leaseTtlSeconds,
        snapshotEveryMutations,
      },
      join: values.join,
      joinPolicyFile: values['join-policy'],
      allowSimulated: values['allow-simulated'],
      virtualNodes,
      scheduler,
      maxRequestsInflight,
      maxMutatingRequestsInflight,
      enablePriorityAndFairness: priorityAndFairness === 'true',
      auditLogPath: values['audit-log-path'],
      auditPolicyFile: values['audit-policy-file'],
      auditRotation: { ...auditRotation, compress: auditLogCompress },
      encryption,
      tlsCertFile: values['tls-cert-file'],
      tlsPrivateKeyFile: values['tls-private-key-file'],
      // Crash-only: serving memory the disk no longer matches would show unacknowledged state.
      onDurabilityLost: (error) => {
        log.error('exiting: the durable log failed', { error: error.message });
        process.stderr.write(`error: ${error.message}\n`);
        process.exit(1);
      },
    });
  } catch (error) {
    if (error instanceof IntegrityError) {
      process.stderr.write(`error: refusing to start: the stored state failed its integrity check: ${error.message}\n`);
      if (storage === 'local') process.stderr.write('If you accept losing what follows the last signed checkpoint, restart with --recover-to-checkpoint.\n');
    } else {
      process.stderr.write(`error: ${(error as Error).message}\n`);
    }
    // Connections opened before the failure (etcd, listeners) must not keep a failed start alive.
    process.exit(1);
  }
  process.stdout.write(`Nautilus is serving at ${controlPlane.url}; use it with: export KUBECONFIG=${controlPlane.kubeconfigPath}\n`);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info('shutting down', { signal });
      void controlPlane.stop().then(resolve);
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
  return 0;
}
