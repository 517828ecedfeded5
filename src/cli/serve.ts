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
import { loadSchedulerConfiguration, type ResolvedConfiguration as SchedulerConfiguration } from '../scheduler/config.js';

const TEE_CHOICES: readonly ProviderName[] = ['auto', 'nitro', 'tdx', 'sev-snp', 'simulated', 'none'];

/** kcm's per-controller worker flags, e.g. --concurrent-deployment-syncs. */
const WORKER_FLAGS = allControllers.flatMap((controller) => (controller.workersFlag ? [controller.workersFlag] : []));
/** Other kcm flags controllers read, e.g. --node-monitor-grace-period, --terminated-pod-gc-threshold. */
const SETTING_FLAGS = [...new Map(allControllers.flatMap((controller) => controller.flags ?? []).map((flag) => [flag.name, flag])).values()];

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '6443' },
      address: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string', default: '.nautilus' },
      ephemeral: { type: 'boolean', default: false },
      tee: { type: 'string', default: 'auto' },
      'recover-to-checkpoint': { type: 'boolean', default: false },
      'memory-budget': { type: 'string', default: '2Gi' },
      'token-auth-file': { type: 'string' },
      'anonymous-auth': { type: 'string', default: 'true' },
      'service-account-issuer': { type: 'string', multiple: true },
      'api-audiences': { type: 'string' },
      'oidc-issuer-url': { type: 'string' },
      'oidc-client-id': { type: 'string' },
      'oidc-jwks-file': { type: 'string' },
      'oidc-username-claim': { type: 'string' },
      'oidc-username-prefix': { type: 'string' },
      'oidc-groups-claim': { type: 'string' },
      'oidc-groups-prefix': { type: 'string' },
      'oidc-required-claim': { type: 'string', multiple: true },
      'oidc-signing-algs': { type: 'string' },
      controllers: { type: 'string', default: '*' },
      'feature-gates': { type: 'string', default: '' },
      storage: { type: 'string', default: 'local' },
      'etcd-endpoints': { type: 'string' },
      'etcd-cafile': { type: 'string' },
      'etcd-certfile': { type: 'string' },
      'etcd-keyfile': { type: 'string' },
      'etcd-prefix': { type: 'string', default: '/nautilus/' },
      'etcd-lease-ttl': { type: 'string', default: '2' },
      'etcd-snapshot-every': { type: 'string', default: '50000' },
      join: { type: 'string' },
      'join-policy': { type: 'string' },
      'allow-simulated': { type: 'boolean', default: false },
      'virtual-nodes': { type: 'string', default: '0' },
      'scheduler-config': { type: 'string' },
      'disable-scheduler': { type: 'boolean', default: false },
      'max-requests-inflight': { type: 'string', default: '400' },
      'max-mutating-requests-inflight': { type: 'string', default: '200' },
      'enable-priority-and-fairness': { type: 'string', default: 'true' },
      'audit-log-path': { type: 'string' },
      'audit-policy-file': { type: 'string' },
      'log-format': { type: 'string' },
      v: { type: 'string', short: 'v', default: '0' },
      ...Object.fromEntries(WORKER_FLAGS.map((flag) => [flag.name, { type: 'string' as const }])),
      ...Object.fromEntries(SETTING_FLAGS.map((flag) => [flag.name, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      `Usage: nautilus serve [--port 6443] [--address 127.0.0.1] [--data-dir .nautilus] [--ephemeral] [--recover-to-checkpoint] [--memory-budget 2Gi] [--tee ${TEE_CHOICES.join('|')}]
` +
        `  authentication: [--token-auth-file FILE] [--anonymous-auth=true|false] [--service-account-issuer URL ...] [--api-audiences A,B]
` +
        `  OIDC: [--oidc-issuer-url URL --oidc-client-id ID --oidc-jwks-file FILE] [--oidc-username-claim sub] [--oidc-username-prefix P] [--oidc-groups-claim C] [--oidc-groups-prefix P] [--oidc-required-claim K=V ...] [--oidc-signing-algs RS256]
` +
        `  storage: [--storage local|etcd --etcd-endpoints URL[,URL…] [--etcd-cafile FILE --etcd-certfile FILE --etcd-keyfile FILE] [--etcd-prefix /nautilus/]
` +
        `           [--etcd-lease-ttl SECONDS] [--etcd-snapshot-every WRITES] [--join https://REPLICA] [--join-policy FILE [--allow-simulated]]]
` +
        `  nodes: [--virtual-nodes N] (N simulated kubelets in this process)
` +
        `  scheduler: [--scheduler-config FILE (a KubeSchedulerConfiguration)] [--disable-scheduler]
` +
        `  flow control: [--max-requests-inflight 400] [--max-mutating-requests-inflight 200] [--enable-priority-and-fairness=true|false]
` +
        `  audit: [--audit-log-path FILE|- --audit-policy-file FILE]
` +
        `  logs: [--log-format json|text (default: text on a terminal, json otherwise)] [-v=N (klog levels; 3 logs every request with its latency)]
`,
    );
    return 0;
  }
  const verbosity = parseVerbosity(values.v!);
  if (verbosity === undefined) {
    process.stderr.write(`error: -v must be a level from 0 to 10, got ${JSON.stringify(values.v)}\n`);
    return 2;
  }
  const logFormat = values['log-format'];
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'text') {
    process.stderr.write(`error: --log-format must be json or text, got ${JSON.stringify(logFormat)}\n`);
    return 2;
  }
  configureLogging({ verbosity, format: logFormat });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`error: --port must be a number between 0 and 65535, got ${JSON.stringify(values.port)}\n`);
    return 2;
  }
  const memoryBudget = parseQuantity(values['memory-budget']);
  if (!Number.isFinite(memoryBudget) || memoryBudget <= 0) {
    process.stderr.write(`error: --memory-budget must be a positive quantity such as 2Gi or 512Mi, got ${JSON.stringify(values['memory-budget'])}\n`);
    return 2;
  }
  const tee = values.tee as ProviderName;
  if (!TEE_CHOICES.includes(tee)) {
    process.stderr.write(`error: --tee must be one of ${TEE_CHOICES.join(', ')}, got ${JSON.stringify(values.tee)}\n`);
    return 2;
  }
  const anonymous = String(values['anonymous-auth']).toLowerCase();
  if (anonymous !== 'true' && anonymous !== 'false') {
    process.stderr.write(`error: --anonymous-auth must be true or false, got ${JSON.stringify(values['anonymous-auth'])}\n`);
    return 2;
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
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return 2;
  }
  const controllers = String(values.controllers).split(',');
  try {
    ControllerManager.enabled(allControllers, controllers);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return 2;
  }
  let featureGates: Record<string, boolean>;
  try {
    featureGates = parseFeatureGates(String(values['feature-gates']));
  } catch (error) {
    process.stderr.write(`error: --feature-gates: ${(error as Error).message}\n`);
    return 2;
  }
  const storage = values.storage;
  if (storage !== 'local' && storage !== 'etcd') {
    process.stderr.write(`error: --storage must be local or etcd, got ${JSON.stringify(storage)}\n`);
    return 2;
  }
  const positive = (flag: 'etcd-lease-ttl' | 'etcd-snapshot-every'): number | undefined => {
    const value = Number(values[flag]);
    return Number.isInteger(value) && value >= 1 ? value : undefined;
  };
  const leaseTtlSeconds = positive('etcd-lease-ttl');
  const snapshotEveryMutations = positive('etcd-snapshot-every');
  if (leaseTtlSeconds === undefined || snapshotEveryMutations === undefined) {
    process.stderr.write('error: --etcd-lease-ttl and --etcd-snapshot-every must be positive integers\n');
    return 2;
  }
  const endpoints = (values['etcd-endpoints'] ?? '').split(',').map((endpoint) => endpoint.trim()).filter(Boolean);
  if (storage === 'etcd' && endpoints.length === 0) {
    process.stderr.write('error: --storage etcd needs --etcd-endpoints https://HOST:2379[,…]\n');
    return 2;
  }
  if (storage === 'local' && (endpoints.length > 0 || values.join || values['join-policy'])) {
    process.stderr.write('error: --etcd-endpoints, --join and --join-policy need --storage etcd\n');
    return 2;
  }
  const virtualNodes = Number(values['virtual-nodes']);
  if (!Number.isInteger(virtualNodes) || virtualNodes < 0 || virtualNodes > 16_384) {
    process.stderr.write(`error: --virtual-nodes must be an integer between 0 and 16384, got ${JSON.stringify(values['virtual-nodes'])}\n`);
    return 2;
  }
  const inflight = (flag: 'max-requests-inflight' | 'max-mutating-requests-inflight'): number | undefined => {
    const value = Number(values[flag]);
    return Number.isInteger(value) && value >= 0 ? value : undefined;
  };
  const maxRequestsInflight = inflight('max-requests-inflight');
  const maxMutatingRequestsInflight = inflight('max-mutating-requests-inflight');
  if (maxRequestsInflight === undefined || maxMutatingRequestsInflight === undefined) {
    process.stderr.write('error: --max-requests-inflight and --max-mutating-requests-inflight must be non-negative integers\n');
    return 2;
  }
  const priorityAndFairness = String(values['enable-priority-and-fairness']).toLowerCase();
  if (priorityAndFairness !== 'true' && priorityAndFairness !== 'false') {
    process.stderr.write(`error: --enable-priority-and-fairness must be true or false, got ${JSON.stringify(values['enable-priority-and-fairness'])}\n`);
    return 2;
  }
  const controllerWorkers: Record<string, number> = {};
  for (const flag of WORKER_FLAGS) {
    const value = (values as Record<string, unknown>)[flag.name];
    if (value === undefined) continue;
    const workers = Number(value);
    if (!Number.isInteger(workers) || workers < 1) {
      process.stderr.write(`error: --${flag.name} must be a positive integer, got ${JSON.stringify(value)}\n`);
      return 2;
    }
    controllerWorkers[flag.name] = workers;
  }
  let scheduler: SchedulerConfiguration | false | undefined;
  try {
    if (values['disable-scheduler']) scheduler = false;
    else if (values['scheduler-config']) scheduler = loadSchedulerConfiguration(values['scheduler-config']);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return 2;
  }
  const controllerSettings: Record<string, number | boolean> = { ...featureGates };
  for (const flag of SETTING_FLAGS) {
    const value = (values as Record<string, unknown>)[flag.name];
    if (value === undefined) continue;
    const parsed = parseControllerFlag(flag, String(value));
    if (parsed === undefined) {
      process.stderr.write(`error: --${flag.name} must be ${flag.kind === 'duration' ? 'a duration such as 40s or 5m' : 'a non-negative number'}, got ${JSON.stringify(value)}\n`);
      return 2;
    }
    controllerSettings[flag.name] = parsed;
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
      ephemeral: values.ephemeral,
      recoverToCheckpoint: values['recover-to-checkpoint'],
      memoryBudget,
      tokenAuthFile: values['token-auth-file'],
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
