/**
 * The HTTPS listener and request pipeline. One TLS listener; ALPN picks HTTP/2 (served with
 * Node's stream API, the fast path) or HTTP/1.1. Then, for every request but the attestation
 * document: authenticate → impersonate → authorize → route → handler → response.
 */
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import { createServer as createHttp2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { createServer as createHttpServer, ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { ApiError, errors } from '../api/status.js';
import { negotiate } from '../api/negotiation.js';
import type { DiscoveryDocuments } from '../api/discovery.js';
import type { RequestAuthenticator } from '../auth/authenticate.js';
import { authorizeConnectCreate, authorizeOrThrow, type Authorizer } from '../auth/authorization.js';
import { impersonate, wantsImpersonation } from '../auth/impersonation.js';
import { Http1Exchange, Http2Exchange, type Exchange } from './exchange.js';
import { authorizationAttributes, parseRequestInfo, type RequestInfo } from './request-info.js';
import type { UserInfo } from '../auth/authenticate.js';
import { handleAuthResource, isAuthResource, serveIssuerDiscovery, type AuthResources } from './auth-resources.js';
import { handleResource, type RestContext } from './rest-handler.js';
import { respondError, respondJson } from './responses.js';
import { log } from './log.js';
import { BACKUP_PATH, serveBackup } from './backup-endpoint.js';
import type { Backup } from '../storage/backup.js';
import { isLongRunning, requestLabelValues, type Metrics } from './metrics.js';
import type { HealthChecks } from './health.js';
import { handleStatusPage, type StatusSources } from './status-page.js';
import type { Auditor, AuditedRequest } from '../audit/auditor.js';
import { respondTooManyRequests, type FlowControl } from '../flowcontrol/flow-control.js';

export interface OpenApiEndpoint {
  handle(path: string, query: URLSearchParams, headers: { accept?: string; ifNoneMatch?: string }): { status: number; headers: Record<string, string>; body: Buffer } | undefined;
}

export interface AttestationEndpoint {
  /** Body of GET /attestation?nonce=… (a JSON AttestationDocument). */
  respond(nonceHex: string | undefined): Promise<Buffer>;
}

export interface ApiServerOptions {
  address: string;
  port: number;
  tls: { keyPem: string; certPem: string; caPem: string };
  rest: RestContext;
  /** The current discovery documents (they change as custom resources come and go). */
  discovery: () => DiscoveryDocuments;
  version: Record<string, string>;
  openapi?: OpenApiEndpoint;
  attestation?: AttestationEndpoint;
  metrics?: Metrics;
  /** Client certificates, bearer tokens, anonymous. */
  authenticator: RequestAuthenticator;
  /** Asked for every request (and for impersonation). */
  authorizer: Authorizer;
  /** Reviews, TokenRequest, service-account issuer discovery. */
  auth: AuthResources;
  /** With replicated storage: writes go to the leader, reads wait to be fresh, and /replicas/ joins. */
  replication?: ReplicationHooks;
  isReady: () => boolean;
  /** Named checks of /healthz, /livez, /readyz (upstream's [+]ping ok …); without: ok once isReady. */
  health?: HealthChecks;
  /** The read-only status page at /ui/. */
  statusPage?: StatusSources;
  /** --audit-log-path with --audit-policy-file: every authenticated request's audit events. */
  audit?: Auditor;
  /** API Priority and Fairness, or the plain max-inflight limits: who waits, who gets 429. */
  flowControl?: FlowControl;
  /** GET /snapshot: a sealed backup at one revision (`nautilus snapshot save` against a running server). */
  backup?: () => Promise<Backup>;
  /** Requests for group-versions served by another API server (aggregation): the proxy, if any. */
  aggregation?: { route(group: string, version: string): ((ex: Exchange) => Promise<void>) | undefined };
}

export interface ReplicationHooks {
  /** The user a request forwarded by another replica names (verified); undefined when not forwarded. */
  forwardedUser(ex: Exchange): UserInfo | undefined;
  /** Forwards the request to the leader and answers it (true), or leaves it to this replica (false). */
  route(ex: Exchange, info: RequestInfo, forwarded: boolean): Promise<boolean>;
  /** Unauthenticated replica endpoints (attested join), under /replicas/. */
  handlePublic(ex: Exchange, path: string): Promise<void>;
}

export interface ApiServer {
  readonly port: number;
  /** New connections get this certificate; open ones keep theirs. */
  setServingCertificate(keyPem: string, certPem: string): void;
  close(): Promise<void>;
}

/** The TLS suites offered: AEAD only, forward-secret key exchange only (OpenSSL names). */
export const AEAD_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Health and version: served to whoever RBAC lets read them (system:public-info-viewer grants everyone). */
const INFO_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);
/** The attestation document, also reachable as a read-only resource of the nautilus.dev/v1 API group. */
export const ATTESTATION_RESOURCE_PATH = '/apis/nautilus.dev/v1/attestations/';

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const h2 = createHttp2Server({ settings: { maxConcurrentStreams: 1000 } });
  const h1 = createHttpServer({ keepAliveTimeout: 65_000 });
  h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    void handle(new Http2Exchange(stream, headers, rawHeaders), options);
  });
  h2.on('sessionError', (error) => log.debug('http2 session error', { error: error.message }));
  h1.on('request', (req, res) => {
    void handle(new Http1Exchange(req, res), options);
  });
  // exec, attach and port-forward upgrade the connection (WebSocket or SPDY); errors still answer a Status.
  h1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    const ex = new Http1Exchange(req, res);
    ex.upgrade = { socket, head, request: req };
    res.once('finish', () => !ex.upgraded && socket.end());
    socket.on('error', () => socket.destroy());
    void handle(ex, options);
  });

  // The secure context: what setServingCertificate replaces; the listener options stay.
  const secureContext = (keyPem: string, certPem: string) => ({
    key: keyPem,
    cert: certPem,
    ca: options.tls.caPem,
    minVersion: 'TLSv1.2' as const,
    // AEAD suites only (no CBC, CCM or ARIA): TLS 1.3's GCM/ChaCha20 and TLS 1.2's ECDHE + GCM/ChaCha20.
    ciphers: AEAD_CIPHERS,
    honorCipherOrder: true,
  });
  const tlsServer: TlsServer = createTlsServer({
    ...secureContext(options.tls.keyPem, options.tls.certPem),
    requestCert: true,
    rejectUnauthorized: false,
    ALPNProtocols: ['h2', 'http/1.1'],
  });
  const sockets = new Set<TLSSocket>();
  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
    else h1.emit('connection', socket);
  });
  tlsServer.on('tlsClientError', (error) => log.debug('tls handshake failed', { error: error.message }));

  await new Promise<void>((resolve, reject) => {
    tlsServer.once('error', reject);
    tlsServer.listen(options.port, options.address, () => resolve());
  });
  const port = (tlsServer.address() as AddressInfo).port;
  return {
    port,
    setServingCertificate: (keyPem, certPem) => tlsServer.setSecureContext(secureContext(keyPem, certPem)),
    close: () =>
      new Promise<void>((resolve) => {
        tlsServer.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

async function handle(ex: Exchange, options: ApiServerOptions): Promise<void> {
  const started = process.hrtime.bigint();
  const leftInflight = options.metrics?.requestStarted(ex.method);
  let info: RequestInfo | undefined;
  let url: URL | undefined;
  let audited: AuditedRequest | undefined;
  let authorized = false;
  let release: (() => void) | undefined;
  try {
    url = new URL(ex.url, 'https://nautilus');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    // The attestation document is what a client checks before it trusts anything: public.
    if (path === '/attestation' || path.startsWith(ATTESTATION_RESOURCE_PATH)) return await serveAttestation(ex, path, url.searchParams, options);
    // A replica asking to join has no credentials yet: it proves itself by attestation.
    if (options.replication && path.startsWith('/replicas/')) return await options.replication.handlePublic(ex, path);
    // A write another replica forwarded is its user's, authenticated (and authorized) there.
    const forwardedUser = options.replication?.forwardedUser(ex);
    const requester = forwardedUser ?? options.authenticator.authenticate(ex.socket, ex.header('authorization'));
    let user = requester;
    info = parseRequestInfo(ex.method, path, url.searchParams);
    // As upstream: audit (by the authenticated user) → impersonation → flow control → authorization.
    audited = options.audit?.begin(ex, info, requester);
    if (audited) ex = audited.exchange;
    const headerLines = ex.headerLines();
    if (wantsImpersonation(headerLines)) user = impersonate(user, headerLines, options.authorizer);
    ex.user = user;
    audited?.setUser(user);
    if (options.flowControl) {
      const admitted = ex;
      const admission = await options.flowControl.admit(info, user, (withdraw) => admitted.onClose(withdraw), url.searchParams);
      if (Object.keys(admission.headers).length) ex.responseHeaders = { ...ex.responseHeaders, ...admission.headers };
      if (!admission.admitted) return respondTooManyRequests(ex);
      release = admission.release;
    }
    // The status page asks its own view-level question (src/server/status-page.ts).
    if (options.statusPage && (path === '/ui' || path.startsWith('/ui/'))) return await handleStatusPage(ex, path, options.statusPage);
    const attributes = authorizationAttributes(info, user, url.searchParams, safeDecode(url.pathname));
    authorizeOrThrow(options.authorizer, attributes);
    authorizeConnectCreate(options.authorizer, attributes);
    authorized = true;
    audited?.annotate('authorization.k8s.io/decision', 'allow');
    // Authorized above like any other (as kube-aggregator does), a request for an aggregated API server goes to it.
    const proxied = info.apiPrefix === 'apis' && info.version ? options.aggregation?.route(info.group, info.version) : undefined;
    if (proxied) return await proxied(ex);
    if (info.isResourceRequest) {
      if (isAuthResource(info)) return await handleAuthResource(ex, info, options.auth);
      if (options.replication && (await options.replication.route(ex, info, forwardedUser !== undefined))) return;
      return await handleResource(ex, info, url.searchParams, options.rest);
    }
    if (path === BACKUP_PATH && options.backup) return await serveBackup(ex, options.backup);
    if (path === '/metrics' && options.metrics) {
      if (ex.method !== 'GET' && ex.method !== 'HEAD') throw errors.methodNotAllowed(ex.method, path);
      return respondJson(ex, 200, await options.metrics.render(), 'text/plain; version=0.0.4');
    }
    if (INFO_PATHS.has(path) || path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/')) return handleInfo(ex, path, url.searchParams, options);
    if (ex.method !== 'GET' && ex.method !== 'HEAD') throw errors.methodNotAllowed(ex.method, path);
    if (serveIssuerDiscovery(ex, path, options.auth)) return;
    if (path.startsWith('/openapi/') && options.openapi) {
      const answer = options.openapi.handle(path, url.searchParams, { accept: ex.header('accept'), ifNoneMatch: ex.header('if-none-match') });
      if (answer) return ex.respond(answer.status, answer.headers, answer.body);
    }
    return serveDiscovery(ex, path, options.discovery());
  } catch (error) {
    if (audited && !authorized && error instanceof ApiError && error.code === 403) audited.annotate('authorization.k8s.io/decision', 'forbid');
    respondError(ex, error);
    if (audited && !(error instanceof ApiError)) audited.panic();
  } finally {
    release?.();
    audited?.finish();
    leftInflight?.();
    if (options.metrics && url) recordRequest(ex, options.metrics, info ?? requestInfoOrPath(ex.method, url), url.searchParams, started);
    if (log.v(3)) logRequest(ex, started);
  }
}

/** At -v=3, one line per request as upstream's httplog writes it (a watch: when it closes). */
function logRequest(ex: Exchange, started: bigint): void {
  const write = () =>
    log.info('HTTP', {
      verb: ex.method,
      URI: ex.url,
      latency: `${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(3)}ms`,
      userAgent: ex.header('user-agent') ?? '',
      user: ex.user?.name ?? '',
      srcIP: `${ex.socket.remoteAddress}:${ex.socket.remotePort}`,
      resp: ex.status ?? 0,
    });
  if (ex.streaming) ex.onClose(write);
  else write();
}

/** What a request refused before routing (401, bad path) addressed, as far as it parses. */
function requestInfoOrPath(method: string, url: URL): RequestInfo {
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  try {
    return parseRequestInfo(method, path, url.searchParams);
  } catch {
    return { isResourceRequest: false, path, verb: method.toLowerCase(), group: '', version: '', rest: [] };
  }
}

/** apiserver_request_* for an answered request; a stream (watch) is counted when it closes. */
function recordRequest(ex: Exchange, metrics: Metrics, info: RequestInfo, query: URLSearchParams, started: bigint): void {
  const labels = requestLabelValues(info, ex.method, query, ex.header('content-type'));
  const finish = () => metrics.requestFinished(labels, ex.status ?? 0, Number(process.hrtime.bigint() - started) / 1e9, ex.bytesSent);
  if (!ex.streaming) return finish();
  const ended = isLongRunning(info) ? metrics.longRunningStarted(labels) : undefined;
  ex.onClose(() => {
    ended?.();
    finish();
  });
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

async function serveAttestation(ex: Exchange, path: string, query: URLSearchParams, options: ApiServerOptions): Promise<void> {
  if (ex.method !== 'GET' && ex.method !== 'HEAD') throw errors.methodNotAllowed(ex.method, path);
  if (!options.attestation) throw errors.pathNotFound();
  return respondJson(ex, 200, await options.attestation.respond(query.get('nonce') ?? undefined));
}

function handleInfo(ex: Exchange, path: string, query: URLSearchParams, options: ApiServerOptions): void {
  if (ex.method !== 'GET' && ex.method !== 'HEAD') throw errors.methodNotAllowed(ex.method, path);
  if (path === '/version') return respondJson(ex, 200, JSON.stringify(options.version, null, 2));
  if (options.health) {
    const answer = options.health.answer(path, query);
    return ex.respond(answer.status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }, answer.body);
  }
  const ready = path.startsWith('/readyz') ? options.isReady() : true;
  const text = ready ? 'ok' : '[-]startup not finished\nreadyz check failed';
  ex.respond(ready ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }, text);
}

function serveDiscovery(ex: Exchange, path: string, discovery: DiscoveryDocuments): void {
  if (path === '/api' || path === '/apis') {
    const shape = negotiate(ex.header('accept'), ['object', 'discoveryV2', 'discoveryV2beta1']);
    if (shape === 'discoveryV2' || shape === 'discoveryV2beta1') {
      const version = shape === 'discoveryV2' ? 'v2' : 'v2beta1';
      const body = path === '/api' ? discovery.aggregatedCore[version] : discovery.aggregatedGroups[version];
      return respondJson(ex, 200, body, `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`);
    }
  }
  const document = discovery.legacy.get(path);
  if (document) return respondJson(ex, 200, document);
  if (path === '/') {
    const paths = ['/api', '/apis', '/healthz', '/livez', '/readyz', '/version', '/metrics', '/openapi/v2', '/openapi/v3', ...discovery.legacy.keys()];
    return respondJson(ex, 200, JSON.stringify({ paths: [...new Set(paths)].sort() }, null, 2));
  }
  throw errors.pathNotFound();
}
