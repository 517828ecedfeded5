/**
 * Assembles one Nautilus process: certificates, store (ephemeral or durable), registry, API
 * server, and the in-process components, in that order.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { hostname } from 'node:os';
import { ApiError } from '../api/status.js';
import { selectProvider, type ProviderName } from '../tee/provider.js';
import { attestationResponse } from '../tee/attestation-endpoint.js';
import type { ExtraSubresource } from '../api/discovery.js';
import { issueCertificate, loadOrCreateCa, spkiOf, type KeyAndCert } from '../auth/pki.js';
import { RequestAuthenticator, type TokenAuthenticator } from '../auth/authenticate.js';
import { StaticTokens } from '../auth/static-tokens.js';
import { BootstrapTokens } from '../auth/bootstrap-tokens.js';
import type { OidcAuthenticator } from '../auth/oidc.js';
import { DEFAULT_ISSUER, loadServiceAccountSigningKey, ServiceAccountTokens, type ObjectLookup } from '../auth/service-account-tokens.js';
import { privilegedGroups, unionAuthorizer, unionRuleResolver, type Authorizer } from '../auth/authorization.js';
import { RbacAuthorizer } from '../auth/rbac/authorizer.js';
import { EscalationCheck } from '../auth/rbac/escalation.js';
import { reconcileBootstrapPolicy } from '../auth/rbac/reconcile.js';
import { NodeAuthorizer } from '../auth/node-authorizer.js';
import { ROOT_CA_SETTING } from '../controllers/root-ca-publisher.js';
import { SIGNING_CERT_SETTING, SIGNING_KEY_SETTING } from '../controllers/certificate-signer.js';
import { JWKS_PATH, REVIEW_API_KINDS, TOKEN_SUBRESOURCE } from './auth-resources.js';
import { Registry } from '../registry/registry.js';
import { apiVersionOf, type KindStrategy } from '../registry/strategy.js';
import { recordUpdateJson } from '../api/apply/index.js';
import { defineLazyJsonMember, nowRfc3339 } from '../api/object.js';
import { Store } from '../storage/store.js';
import { createSealedLog } from '../storage/wal/index.js';
import { signCheckpointKey } from '../tee/checkpoint-key.js';
import type { KeyObject } from 'node:crypto';
import { createLocalKeyProvider } from '../storage/keys/local.js';
import { sealBackup } from '../storage/backup.js';
import type { KeyProvider } from '../storage/keys/key-provider.js';
import { SealedKeyFiles } from '../storage/keys/sealed-key-files.js';
import { startSnapshotSchedule } from '../storage/snapshot-schedule.js';
import { lockDataDir } from '../storage/data-dir-lock.js';
import { ControllerManager, type ControllerSettings } from '../controllers/manager.js';
import { allControllers } from '../controllers/index.js';
import { InProcessClient } from '../client/in-process.js';
import { InformerFactory } from '../client/informer-factory.js';
import { LOOPBACK_USER } from '../auth/system-users.js';
import { AdmissionChain } from '../admission/admission.js';
import { defaultAdmissionPlugins } from '../admission/plugins.js';
import { startEventRetention } from '../controllers/event-retention.js';
import { bootstrapCluster } from './bootstrap.js';
import { startKubernetesService } from './kubernetes-service.js';
import { startServiceAddressSync } from '../registry/service-address-sync.js';
import { loadOrCreateAdminCredentials, writeAdminKubeconfig } from './kubeconfig.js';
import { Metrics } from './metrics.js';
import { HealthChecks } from './health.js';
import { registerStorageMetrics } from './storage-metrics.js';
import { startApiServer, type ApiServer, type AttestationEndpoint } from './server.js';
import { loadServingCertificate, watchServingCertificate } from './serving-certificate.js';
import { ApiSurface } from './api-surface.js';
import { startCrdController } from '../apiextensions/crd-controller.js';
import { Aggregator } from '../aggregator/aggregator.js';
import { extensionApiserverAuthentication, loadOrCreateFrontProxy } from '../aggregator/front-proxy.js';
import { CONFIG_MAPS } from '../client/resource-types.js';
import type { RestContext } from './rest-handler.js';
import { log } from './log.js';
import { LeaderComponents } from './leader-components.js';
import { openReplicatedStorage, registerReplicationMetrics, type EtcdSettings, type ReplicatedStorage } from './replicated-storage.js';
import { ReplicaRouting } from './replica-routing.js';
import { JoinEndpoint, joinCluster, writeClusterFiles, type JoinPolicy } from './replica-join.js';
import { parsePolicy } from '../tee/policy.js';
import { createSimulatedProvider } from '../tee/simulated.js';
import { X509Certificate } from 'node:crypto';
import { startInProcessVirtualNodes } from '../nodes/in-process.js';
import { METRICS_GROUP, ResourceMetrics } from '../nodes/metrics-api.js';
import { startScheduler } from '../scheduler/index.js';
import type { ResolvedConfiguration as SchedulerConfiguration } from '../scheduler/config.js';
import { Auditor, fileSink } from '../audit/auditor.js';
import type { RotationOptions } from '../audit/rotating-file.js';
import { AuditPolicy } from '../audit/policy.js';
import { PriorityAndFairness, type FlowControlObserver } from '../flowcontrol/priority-and-fairness.js';
import { flowControlMetrics } from './flowcontrol-metrics.js';
import { MaxInflightLimit } from '../flowcontrol/max-inflight.js';
import type { ObjectCounter } from '../flowcontrol/work-estimator.js';
import { ensureFlowControlConfiguration } from '../flowcontrol/ensure-configuration.js';
import { startDanglingConditions } from '../flowcontrol/dangling-condition.js';
import type { FlowControl } from '../flowcontrol/flow-control.js';
import { KubeletConnector, KUBELET_SUBRESOURCES } from './kubelet-proxy.js';
import { KUBELET_CLIENT_COMMON_NAME } from '../nodes/kubelet-server.js';
import type { EncryptionConfiguration } from '../storage/encryption/configuration.js';
import { createValueTransformer } from '../storage/encryption/transformer.js';

const DEFAULT_MEMORY_BUDGET = 2 * 1024 ** 3;
/** How long after winning an election the leader-only components start (see whileLeader). */
const LEADER_COMPONENTS_DELAY_MS = 250;
/** Upstream's default --event-ttl. */
const EVENT_TTL_MS = 60 * 60 * 1000;

export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-nautilus' };

export interface ControlPlaneOptions {
  address: string;
  port: number;
  dataDir: string;
  kinds: readonly KindStrategy[];
  /** Everything in memory only: no write-ahead log, nothing survives a restart. */
  ephemeral?: boolean;
  /** Operator override after damage: recover to the last signed checkpoint, drop the rest. */
  recoverToCheckpoint?: boolean;
  /** Bytes the stored objects may take (default 2 GiB); events get a tenth of it, as a ring. */
  memoryBudget?: number;
  /** A CSV of static bearer tokens (upstream's --token-auth-file). */
  tokenAuthFile?: string;
  /** --enable-bootstrap-token-auth: bootstrap tokens authenticate as system:bootstrappers. */
  enableBootstrapTokenAuth?: boolean;
  /** --anonymous-auth: requests without credentials act as system:anonymous (default true, as upstream). */
  anonymousAuth?: boolean;
  /** --service-account-issuer (repeatable): the first signs new tokens, all are accepted. */
  serviceAccountIssuers?: readonly string[];
  /** --api-audiences: what service-account tokens must be meant for (default: the issuers). */
  apiAudiences?: readonly string[];
  /** ID tokens of an OIDC issuer (--oidc-* flags). */
  oidc?: OidcAuthenticator;
  /** What to do when the durable log fails (the CLI exits, so a restart recovers from disk). */
  onDurabilityLost?: (error: Error) => void;
  /** Where the data key comes from (serve --key-provider); default the local key file. */
  keyProvider?: KeyProvider;
  /** The TEE whose evidence GET /attestation serves, bound to the serving key (default: none). */
  tee?: ProviderName;
  /** Which controllers run (kcm's --controllers: "*", "name", "-name"); default all. */
  controllers?: readonly string[];
  /** Controller worker counts by flag name (e.g. "concurrent-deployment-syncs"). */
  controllerWorkers?: Readonly<Record<string, number>>;
  /** Controller feature gates and tunables (serve --feature-gates), by name. */
  controllerSettings?: ControllerSettings;
  /** Where the state lives: the local sealed WAL (default) or a log replicated through etcd. */
  storage?: 'local' | 'etcd';
  /** --storage etcd: endpoints, TLS, prefix, lease and snapshot settings. */
  etcd?: EtcdSettings;
  /** --join URL: get the data key and the cluster's pki/ from that replica by attestation. */
  join?: string;
  /** --join-policy FILE: let replicas whose attestation satisfies it join through this one. */
  joinPolicyFile?: string;
  /** --allow-simulated: accept simulated attestation from joining replicas (tests, demos). */
  allowSimulated?: boolean;
  /** --virtual-nodes N: simulated kubelets in this process (src/nodes/), leader only. */
  virtualNodes?: number;
  /** The scheduler's KubeSchedulerConfiguration (--scheduler-config), or false to run none (--disable-scheduler). */
  scheduler?: SchedulerConfiguration | false;
  /** --max-requests-inflight (default 400; 0: no limit). With APF, the two limits summed are its seats. */
  maxRequestsInflight?: number;
  /** --max-mutating-requests-inflight (default 200; 0: no limit). */
  maxMutatingRequestsInflight?: number;
  /** --enable-priority-and-fairness (default true): fair queuing by FlowSchema, else the plain limits. */
  enablePriorityAndFairness?: boolean;
  /** --audit-log-path (with --audit-policy-file): where audit events go, "-" for standard output. */
  auditLogPath?: string;
  /** --audit-policy-file: an audit.k8s.io/v1 Policy. */
  auditPolicyFile?: string;
  /** --audit-log-maxsize, --audit-log-maxbackup, --audit-log-maxage: the log file's rotation. */
  auditRotation?: RotationOptions;
  /** --tls-cert-file and --tls-private-key-file: serve this pair (reloaded on change) instead of a fresh in-process one. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** --encryption-provider-config: encryption at rest of the resources it lists. */
  encryption?: EncryptionConfiguration;
}

export interface ControlPlane {
  readonly port: number;
  readonly url: string;
  readonly kubeconfigPath: string;
  readonly store: Store;
  readonly registry: Registry;
  /** The API as the server's own loopback identity (system:masters), for in-process components and tests. */
  readonly client: InProcessClient;
  /** The informers every in-process component shares. */
  readonly informers: InformerFactory;
  /** What every request and every in-process call is authorized by (system:masters, Node, RBAC). */
  readonly authorizer: Authorizer;
  /** Issues and checks service-account tokens. */
  readonly serviceAccountTokens: ServiceAccountTokens;
  /**
   * Components that act on the cluster (controllers, scheduler, virtual nodes …): add yours here;
   * they run on the storage leader only, started and stopped as leadership comes and goes.
   */
  readonly whileLeader: LeaderComponents;
  /** With --storage etcd, this replica (role, leader, log). */
  readonly replicated?: ReplicatedStorage;
  readonly servingCertPem: string;
  stop(): Promise<void>;
}

const EXTRA_SUBRESOURCES: ExtraSubresource[] = [
  { group: '', version: 'v1', parentPlural: 'pods', name: 'binding', kind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'], namespaced: true },
  { group: '', version: 'v1', parentPlural: 'pods', name: 'eviction', kind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'], namespaced: true },
  { group: '', version: 'v1', parentPlural: 'namespaces', name: 'finalize', kind: { group: '', version: 'v1', kind: 'Namespace' }, verbs: ['update'], namespaced: false },
  TOKEN_SUBRESOURCE,
  ...KUBELET_SUBRESOURCES,
  {
    group: 'certificates.k8s.io',
    version: 'v1',
    parentPlural: 'certificatesigningrequests',
    name: 'approval',
    kind: { group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest' },
    verbs: ['get', 'patch', 'update'],
    namespaced: false,
  },
];

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const started = Date.now();
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // One process per data dir, held until this control plane stops (or the process exits).
  const dataDirLock = lockDataDir(dataDir);
  const pkiDir = join(dataDir, 'pki');
  if (options.storage === 'etcd' && options.ephemeral) throw new Error('--ephemeral and --storage etcd exclude each other');
  // A joining replica gets the data key (kept in memory only) and the cluster's pki/ by attestation.
  const joined = options.join ? await joinCluster(options.join, await selectProvider(options.tee ?? 'none', { dataDir })) : undefined;
  if (joined) await writeClusterFiles(pkiDir, joined.pkiFiles);
  // The data key seals the log and pki/'s private keys; a joiner has the cluster's from its peer.
  const source = options.keyProvider ?? createLocalKeyProvider(dataDir);
  const dataKey = joined?.dataKey ?? (await source.dataKey());
  const keyProvider: KeyProvider = { name: joined ? 'released by a replica' : source.name, dataKey: async () => dataKey };
  log.info('data key', { provider: keyProvider.name });
  const keys = new SealedKeyFiles(pkiDir, dataKey);
  const ca = await loadOrCreateCa(keys);
  const advertised = options.address === '0.0.0.0' || options.address === '::' ? '127.0.0.1' : options.address;
  // A fresh serving key every start: it never leaves this process, so attestation can vouch for it.
  // Or the operator's pair (--tls-cert-file), reloaded when the files change.
  const servingFiles = options.tlsCertFile && options.tlsPrivateKeyFile ? { certFile: options.tlsCertFile, keyFile: options.tlsPrivateKeyFile } : undefined;
  const serving = servingFiles ? await loadServingCertificate(servingFiles) : await issueCertificate(ca, {
    commonName: 'nautilus-apiserver',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', hostname()],
    ipAddresses: [...new Set(['127.0.0.1', '::1', '10.96.0.1', advertised])].filter((ip) => /^[\d.]+$|:/.test(ip)),
    usage: 'server',
    validDays: 365,
  });

  const onFatal = options.onDurabilityLost ?? ((error: Error) => log.error('storage failed', { error: error.message }));
  const valueTransformer = options.encryption ? createValueTransformer(options.encryption, dataKey) : undefined;
  const replicated = options.storage === 'etcd' ? await openReplicatedStorage(options.etcd ?? { endpoints: [] }, dataKey, onFatal, valueTransformer) : undefined;
  const metrics = new Metrics();
  const durableLog = replicated || options.ephemeral
    ? undefined
    : await createSealedLog({ dir: dataDir, keyProvider, recoverToCheckpoint: options.recoverToCheckpoint, onSync: (seconds) => metrics.walSynced(seconds) });
  const store = replicated?.store ?? new Store({ durableLog, onDurabilityLost: options.onDurabilityLost, valueTransformer });
  if (durableLog) {
    store.restore(await durableLog.recover());
    log.info('state recovered', { ...durableLog.recovery });
    if (store.staleValuesRecovered > 0) {
      // Encryption key rotation: a snapshot now re-encrypts every value with the key that writes,
      // so the log no longer needs the retired key once it is removed from the config.
      const snapshot = store.snapshotEntries();
      await durableLog.snapshot(snapshot.revision, snapshot.entries);
      log.info('values under a retired encryption key re-encrypted by a snapshot', { values: store.staleValuesRecovered, revision: snapshot.revision });
    }
  }
  const onSnapshot = (revision: number, seconds: number) => metrics.snapshotWritten(revision, seconds);
  const snapshots = durableLog ? startSnapshotSchedule(store, durableLog, { onSnapshot }) : undefined;
  // With local storage this one replica always leads: components start as they are added.
  const whileLeader = new LeaderComponents({ strict: !replicated });
  if (!replicated) await whileLeader.startAll();

  // The served API's derived documents; the registry's hooks read them only once requests flow.
  let surface: ApiSurface | undefined;
  const patchSchema = (strategy: KindStrategy) => surface!.patchSchema(strategy);
  const memoryBudget = options.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  // Admission plugins read their configuration (webhooks, policies) from the registry they guard.
  let registryRef: Registry | undefined;
  // Bound below, once the RBAC caches it reads exist.
  let escalation: EscalationCheck | undefined;
  let authorizerForAdmission: Authorizer | undefined;
  const registry = new Registry(options.kinds, store, {
    writePolicy: (attributes) => escalation?.check(attributes),
    admission: new AdmissionChain(defaultAdmissionPlugins({ registry: () => registryRef!, authorizer: () => authorizerForAdmission })),
    admitWrite: (strategy) => {
      // Events make room for themselves (event retention); everything else stops at the budget.
      if (strategy.kind === 'Event') return;
      if (store.bytes() > memoryBudget) {
        throw new ApiError(507, 'InsufficientStorage', `the server is over its memory budget (${store.bytes()} of ${memoryBudget} bytes stored); delete objects or raise --memory-budget`);
      }
    },
    typedRoundTrip: (strategy, object) => surface?.dropOmitted(strategy, object),
    recordManagedFields: ({ object, old, strategy, manager, subresource }) => {
      const managedFields = recordUpdateJson({ live: old, updated: object, manager, subresource, apiVersion: apiVersionOf(strategy), schema: patchSchema(strategy), now: nowRfc3339() });
      // As text: the store keeps exactly these bytes, and nobody parses them unless they read them.
      if (managedFields !== undefined) defineLazyJsonMember(object.metadata, 'managedFields', managedFields);
      else delete object.metadata.managedFields;
    },
  });
  registryRef = registry;
  registerStorageMetrics(metrics, registry, store, durableLog ? dataDir : undefined, () => durableLog?.noSpaceAlarm);
  // /livez and /readyz: named checks as upstream's; post-start hooks fail until they are done.
  const health = new HealthChecks();
  health.add(replicated ? 'etcd' : 'wal', () => store.durabilityFailure?.message);
  // Not live-ness: a full disk is no reason to restart; reads and watches are still served.
  if (durableLog) health.add('wal-nospace', () => durableLog.noSpaceAlarm && `NOSPACE alarm: ${durableLog.noSpaceAlarm}`, ['readyz']);
  let stopping = false;
  health.add('shutdown', () => (stopping ? 'the server is shutting down' : undefined), ['readyz']);
  const informersStarted = health.postStartHook('generic-apiserver-start-informers');
  const crdsSynced = health.postStartHook('crd-informer-synced');
  const bootstrapRoles = health.postStartHook('rbac/bootstrap-roles');
  const startupDone = health.postStartHook('nautilus-startup-complete');

  registerReplicationMetrics(metrics.registry, replicated?.replica);
  const routing = replicated && dataKey ? new ReplicaRouting(replicated.replica, dataKey, ca.certPem) : undefined;
  const joinEndpoint = replicated && dataKey ? new JoinEndpoint(dataKey, pkiDir, await joinPolicy(options, dataDir)) : undefined;
  const checkpointKey = durableLog?.checkpointPublicKey ?? replicated?.replica.log.checkpointPublicKey;
  const checkpointFingerprint = checkpointKey ? createHash('sha256').update(checkpointKey.export({ type: 'spki', format: 'der' })).digest('hex') : 'none';
  const attestation = await attestationEndpoint(options.tee ?? 'none', dataDir, serving, durableLog?.checkpointPublicKey ?? replicated?.replica.log.checkpointPublicKey);
  if (attestation && servingFiles) {
    throw new Error('--tls-cert-file: attestation vouches for a serving key made inside this process; a key from a file was outside it (use --tee none, or no --tls-cert-file)');
  }
  // With attestation on, discovery also names it, as the read-only resource nautilus.dev/v1 attestations.
  const discoveryOnly = [...REVIEW_API_KINDS, ...(attestation ? [ATTESTATION_API] : [])];
  const apiSurface = new ApiSurface(registry, { discoveryOnly, extraSubresources: EXTRA_SUBRESOURCES, serverAddress: `${advertised}:${options.port}` });
  surface = apiSurface;
  const rest: RestContext = {
    registry,
    patchSchema: apiSurface.patchSchema,
    checkSchema: apiSurface.checkSchema,
    freshness: routing && ((query) => routing.freshness(query)),
    watchEventSent: (strategy, bytes) => metrics.watchEventSent(strategy.group, strategy.version, strategy.kind, bytes),
    kubelet: new KubeletConnector(registry, ca.certPem, await issueCertificate(ca, { commonName: KUBELET_CLIENT_COMMON_NAME, organizations: ['system:masters'], usage: 'client', validDays: 365 })),
  };

  // Authorization: system:masters short-circuits, then the Node authorizer, then RBAC (kube-apiserver's
  // --authorization-mode=Node,RBAC). In-process components are asked the same questions.
  const authorizerRef: Authorizer = { authorize: (attributes) => authorizer.authorize(attributes) };
  const resourceMetrics = new ResourceMetrics(registry);
  const computed = (type: { group: string; resource: string }, namespace: string | undefined, name: string | undefined, query: { labelSelector?: string; fieldSelector?: string }) =>
    type.group === METRICS_GROUP ? resourceMetrics.answer(type.resource, namespace, name, query) : undefined;
  const client = new InProcessClient({ registry, user: LOOPBACK_USER, fieldManager: 'nautilus', patchSchema, authorizer: authorizerRef, computed });
  const informers = new InformerFactory(client);
  const rbac = new RbacAuthorizer(informers);
  const nodeAuthorizer = new NodeAuthorizer(informers);
  const authorizer: Authorizer = unionAuthorizer([privilegedGroups('system:masters'), nodeAuthorizer, rbac]);
  escalation = new EscalationCheck(rbac, authorizer);
  authorizerForAdmission = authorizer;

  const lookup: ObjectLookup = (resource, namespace, name) => registry.of('', resource).tryGet(namespace, name)?.object as ReturnType<ObjectLookup>;
  const issuers = options.serviceAccountIssuers?.length ? options.serviceAccountIssuers : [DEFAULT_ISSUER];
  const serviceAccountTokens = new ServiceAccountTokens({
    signingKey: await loadServiceAccountSigningKey(keys),
    issuers,
    apiAudiences: options.apiAudiences?.length ? options.apiAudiences : issuers,
    lookup,
  });
  const tokenAuthenticators: TokenAuthenticator[] = [];
  if (options.tokenAuthFile) tokenAuthenticators.push(StaticTokens.fromFile(options.tokenAuthFile));
  if (options.enableBootstrapTokenAuth) tokenAuthenticators.push(new BootstrapTokens(lookup));
  tokenAuthenticators.push(serviceAccountTokens);
  if (options.oidc) tokenAuthenticators.push(options.oidc);
  const authenticator = new RequestAuthenticator({ tokens: tokenAuthenticators, anonymous: options.anonymousAuth ?? true });
  const { flowControl, priorityAndFairness } = flowControlFor(options, informers, flowControlMetrics(metrics.registry), (group, resource) => store.count(`${group || 'core'}/${resource}`));
  const auditor = options.auditLogPath && options.auditPolicyFile ? new Auditor(AuditPolicy.parse(await readFile(options.auditPolicyFile, 'utf8')), fileSink(options.auditLogPath, options.auditRotation)) : undefined;
  if (options.auditLogPath && !options.auditPolicyFile) log.warn('--audit-log-path without --audit-policy-file: nothing is audited (as upstream, the policy decides what is logged)');

  let ready = false;
  let aggregator: Aggregator | undefined;
  let url = '';
  const server: ApiServer = await startApiServer({
    address: options.address,
    port: options.port,
    tls: { keyPem: serving.keyPem, certPem: serving.certPem, caPem: ca.certPem },
    rest,
    discovery: () => apiSurface.discovery,
    version: versionInfo(),
    openapi: apiSurface.openapi,
    attestation,
    metrics,
    authenticator,
    authorizer,
    auth: {
      reviews: { authenticator, authorizer, rules: unionRuleResolver([nodeAuthorizer, rbac]) },
      serviceAccountTokens,
      lookup,
      jwksUri: () => `${url}${JWKS_PATH}`,
    },
    replication: routing && joinEndpoint && {
      forwardedUser: (ex) => routing.forwardedUser(ex),
      route: (ex, info, forwarded) => routing.route(ex, info, forwarded),
      handlePublic: (ex, path) => joinEndpoint.handle(ex, path),
    },
    isReady: () => ready,
    health,
    statusPage: {
      registry,
      store,
      metrics,
      authorizer,
      dataDir: durableLog ? dataDir : undefined,
      attestation: () => ({
        provider: attestation ? (options.tee ?? 'none') : 'none (no TEE found)',
        servingKeyBound: attestation !== undefined,
        checkpointKeyFingerprint: checkpointFingerprint,
      }),
    },
    audit: auditor,
    flowControl,
    // The acknowledged state at the revision watchers have seen, captured at once, sealed as it streams.
    backup: durableLog || replicated
      ? async () => {
          const key = dataKey ?? (await keyProvider.dataKey());
          const { revision, entries } = store.snapshotEntries('visible');
          return sealBackup(key, revision, entries);
        }
      : undefined,
    aggregation: {
      route(group, version) {
        const backend = aggregator?.backendFor(group, version);
        return backend && ((ex) => aggregator!.proxy(ex, backend));
      },
    },
  });
  const servingReload = servingFiles ? watchServingCertificate(servingFiles, serving, (pair) => server.setServingCertificate(pair.keyPem, pair.certPem)) : undefined;
  url = `https://${advertised.includes(':') ? `[${advertised}]` : advertised}:${server.port}`;

  // Writers of the cluster's state run on the leader only (whileLeader); what every replica needs
  // to serve — the authorizers' caches, CRDs' kinds, the aggregator's routes — runs everywhere.
  await whileLeader.add('service-address-sync', () => startServiceAddressSync(registry));
  await whileLeader.add('bootstrap', async () => {
    await bootstrapCluster(registry);
    await reconcileBootstrapPolicy(registry);
    bootstrapRoles();
    return { stop() {} };
  });
  await whileLeader.add('kubernetes-service', () => startKubernetesService({ client, informers, advertisedAddress: advertised, port: server.port }));
  await whileLeader.add('apf-configuration', async () => {
    await ensureFlowControlConfiguration(client);
    return { stop() {} };
  });
  await whileLeader.add('apf-dangling-conditions', () => startDanglingConditions(client, informers));
  await Promise.all([rbac.start(), nodeAuthorizer.start(), priorityAndFairness?.start()]);
  informersStarted();
  const crdController = await startCrdController({ registry, client, informers });
  crdsSynced();
  const frontProxy = await loadOrCreateFrontProxy(keys);
  await whileLeader.add('extension-apiserver-authentication', async () => {
    await publishExtensionApiserverAuthentication(client, extensionApiserverAuthentication(ca.certPem, frontProxy));
    return { stop() {} };
  });
  // The aggregator registers APIServices and records their availability (writes): leader only, so
  // a follower does not proxy aggregated APIs yet (see docs/architecture.md, HA).
  await whileLeader.add('aggregator', async () => {
    const running = new Aggregator({ registry, client, informers, surface: apiSurface, frontProxy: frontProxy.client });
    await running.start();
    aggregator = running;
    return {
      stop() {
        running.stop();
        if (aggregator === running) aggregator = undefined;
      },
    };
  });
  const controllerManager = new ControllerManager(allControllers, {
    clientFor: (user, fieldManager) => client.as(user, fieldManager),
    informers,
    metrics: metrics.registry,
    selection: options.controllers,
    workers: options.controllerWorkers,
    settings: { ...options.controllerSettings, [ROOT_CA_SETTING]: ca.certPem, [SIGNING_CERT_SETTING]: ca.certPem, [SIGNING_KEY_SETTING]: ca.keyPem },
    host: hostname(),
    authorizer,
  });
  // Side by side: their handlers register in the same turn, so each shared informer gives its
  // cache once to all of them (at 150,000 pods a replay to each in turn was a minute of parsing).
  const schedulerConfig = options.scheduler;
  const virtualNodes = options.virtualNodes;
  await whileLeader.addTogether([
    {
      name: 'controller-manager',
      start: async () => {
        await controllerManager.start();
        return controllerManager;
      },
    },
    ...(virtualNodes ? [{ name: 'virtual-nodes', start: () => startInProcessVirtualNodes({ client, informers, ca }, { count: virtualNodes, internalIp: '127.0.0.1' }) }] : []),
    ...(schedulerConfig !== false ? [{ name: 'scheduler', start: () => startScheduler({ client, informers, config: schedulerConfig, metrics: metrics.registry, host: hostname() }) }] : []),
  ]);
  const eventStores = options.kinds.filter((kind) => kind.kind === 'Event').map((kind) => registry.of(kind.group, kind.plural));
  await whileLeader.add('event-retention', () => startEventRetention(eventStores, store, { ttlMs: EVENT_TTL_MS, maxBytes: memoryBudget / 10, sweepEveryMs: 60_000 }));
  if (replicated) {
    const replicaLog = replicated.replica.log;
    await whileLeader.add('etcd-snapshots', () => startSnapshotSchedule(store, replicaLog, { everyMutations: options.etcd?.snapshotEveryMutations, checkMs: 1000, onSnapshot }));
    // The API takes writes the moment this replica leads; the components follow a moment later, so
    // the first writes after a failover do not queue behind their start-up.
    replicated.replica.on('leading', () => setTimeout(() => replicated.replica.leading && void whileLeader.startAll(), LEADER_COMPONENTS_DELAY_MS).unref());
    replicated.replica.on('following', () => void whileLeader.stopAll());
    await replicated.replica.start(url);
    // A follower reconciles no policy: the leader did (or will, once it leads).
    bootstrapRoles();
  }

  const admin = await loadOrCreateAdminCredentials(ca, keys);
  const kubeconfigPath = join(dataDir, 'admin.kubeconfig');
  await writeAdminKubeconfig(kubeconfigPath, { server: url, caPem: ca.certPem, client: admin });
  ready = true;
  startupDone();
  log.info('control plane ready', { url, revision: store.revision, startupMs: Date.now() - started });

  return {
    port: server.port,
    url,
    kubeconfigPath,
    store,
    registry,
    client,
    informers,
    authorizer,
    serviceAccountTokens,
    whileLeader,
    replicated,
    servingCertPem: serving.certPem,
    async stop() {
      stopping = true;
      servingReload?.stop();
      await whileLeader.stopAll();
      await crdController.stop();
      informers.stop();
      routing?.close();
      rest.kubelet?.close();
      await server.close();
      priorityAndFairness?.stop();
      await auditor?.close();
      await snapshots?.stop();
      await durableLog?.close();
      await replicated?.close();
      dataDirLock.release();
    },
  };
}

/** API Priority and Fairness over the shared informers, or (disabled) the plain max-inflight limits. */
function flowControlFor(options: ControlPlaneOptions, informers: InformerFactory, observer: FlowControlObserver, countObjects: ObjectCounter): { flowControl: FlowControl; priorityAndFairness?: PriorityAndFairness } {
  const maxRequestsInflight = options.maxRequestsInflight ?? 400;
  const maxMutatingRequestsInflight = options.maxMutatingRequestsInflight ?? 200;
  if (options.enablePriorityAndFairness === false) return { flowControl: new MaxInflightLimit({ maxRequestsInflight, maxMutatingRequestsInflight }) };
  const priorityAndFairness = new PriorityAndFairness(informers, { serverConcurrencyLimit: Math.max(1, maxRequestsInflight + maxMutatingRequestsInflight), observer, countObjects });
  return { flowControl: priorityAndFairness, priorityAndFairness };
}

/** kube-system/extension-apiserver-authentication, which aggregated API servers read to trust the front proxy. */
async function publishExtensionApiserverAuthentication(client: InProcessClient, data: Record<string, string>): Promise<void> {
  const name = 'extension-apiserver-authentication';
  try {
    await client.mutate(CONFIG_MAPS, 'kube-system', name, (current) => ({ ...current, data }));
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 404)) throw error;
    await client.create(CONFIG_MAPS, 'kube-system', { metadata: { name, namespace: 'kube-system' }, data });
  }
}

/** --join-policy: what a joining replica's attestation must satisfy. */
async function joinPolicy(options: ControlPlaneOptions, dataDir: string): Promise<JoinPolicy | undefined> {
  if (!options.joinPolicyFile) return undefined;
  const policy = parsePolicy(await readFile(options.joinPolicyFile, 'utf8'));
  // Simulated TEEs on one machine share the simulated vendor root kept in the data directory.
  const simulatedRoot = options.allowSimulated ? new X509Certificate((await createSimulatedProvider({ dataDir })).rootPem) : undefined;
  return { policy, allowSimulated: options.allowSimulated ?? false, simulatedRoot };
}

/** Discovery's description of GET /apis/nautilus.dev/v1/attestations/{name} (served, not stored). */
const ATTESTATION_API: KindStrategy = {
  group: 'nautilus.dev',
  version: 'v1',
  kind: 'AttestationDocument',
  plural: 'attestations',
  singular: 'attestation',
  namespaced: false,
  verbs: ['get'],
  columns: [],
};

/** GET /attestation: evidence from the TEE that commits to this process's serving key. */
async function attestationEndpoint(tee: ProviderName, dataDir: string, serving: KeyAndCert, checkpointKey: KeyObject | undefined): Promise<AttestationEndpoint | undefined> {
  const provider = await selectProvider(tee, { dataDir });
  if (!provider) return undefined;
  const spki = spkiOf(serving.certPem);
  const checkpointStatement = checkpointKey ? signCheckpointKey(checkpointKey, serving.keyPem) : undefined;
  log.info('attestation enabled', { format: provider.format });
  return {
    async respond(nonceHex) {
      const answer = await attestationResponse(provider, spki, nonceHex, checkpointStatement);
      if (answer.statusCode !== 200) throw new ApiError(answer.statusCode, answer.reason, answer.message);
      return Buffer.from(JSON.stringify(answer.body));
    },
  };
}

function versionInfo(): Record<string, string> {
  return {
    ...KUBERNETES_VERSION,
    gitCommit: process.env.NAUTILUS_GIT_COMMIT ?? 'unknown',
    gitTreeState: 'clean',
    buildDate: '2026-11-22T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'nautilus',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
