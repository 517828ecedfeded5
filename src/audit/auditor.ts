/**
 * The audit log (upstream's --audit-log-path with --audit-policy-file): one audit.k8s.io/v1 Event
 * per request and stage, as JSON lines. RequestReceived when the request is authenticated,
 * ResponseStarted when a long-running response (watch) sends its headers, ResponseComplete when
 * the response is done, Panic when the handler failed unexpectedly. The policy picks the level;
 * Secrets and tokens are never logged above Metadata whatever it says, so their content never
 * reaches the log.
 */
import { randomUUID } from 'node:crypto';
import type { UserInfo } from '../auth/authenticate.js';
import type { RequestInfo } from '../server/request-info.js';
import type { Exchange, Headers, ResponseStream } from '../server/exchange.js';
import { bodyFormat, decodeBody } from '../api/negotiation.js';
import { RotatingFile, type RotationOptions } from './rotating-file.js';
import { AuditPolicy, type AuditDecision, type Level, type Stage } from './policy.js';

/** What carries credentials or secret data: logged at Metadata at most. */
const SENSITIVE = new Set(['/secrets', '/serviceaccounts/token', 'authentication.k8s.io/tokenreviews', 'certificates.k8s.io/certificatesigningrequests']);
const LEVEL_ORDER: Record<Level, number> = { None: 0, Metadata: 1, Request: 2, RequestResponse: 3 };

export interface AuditSink {
  write(line: string): void;
  close(): Promise<void>;
}

/** A file opened for append and rotated as upstream's ("-" is standard output, as upstream). */
export function fileSink(path: string, rotation: RotationOptions = { maxSizeMiB: 0, maxBackups: 0, maxAgeDays: 0 }): AuditSink {
  if (path === '-') return { write: (line) => void process.stdout.write(line), close: async () => {} };
  return new RotatingFile(path, rotation);
}

export class Auditor {
  constructor(
    private readonly policy: AuditPolicy,
    private readonly sink: AuditSink,
  ) {}

  /**
   * Starts auditing one request: returns the exchange to serve it through (it records the
   * request and response) and what to call when the handler is done.
   */
  begin(ex: Exchange, info: RequestInfo, requester: UserInfo): AuditedRequest | undefined {
    // As upstream, the policy sees the authenticated user, before any impersonation.
    const decision = clamp(this.policy.decide(requester, info), info);
    if (decision.level === 'None') return undefined;
    return new AuditedRequest(ex, info, requester, decision, this.sink);
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}

function clamp(decision: AuditDecision, info: RequestInfo): AuditDecision {
  if (decision.level === 'None' || LEVEL_ORDER[decision.level] <= LEVEL_ORDER.Metadata || !info.isResourceRequest) return decision;
  const key = `${info.group}/${info.resource}${info.subresource ? `/${info.subresource}` : ''}`;
  const mainKey = `${info.group}/${info.resource}`;
  if (SENSITIVE.has(key) || SENSITIVE.has(mainKey)) return { ...decision, level: 'Metadata' };
  return decision;
}

/** RFC 3339 with microseconds, as upstream's audit timestamps. */
function microTimestamp(): string {
  const now = performance.timeOrigin + performance.now();
  const iso = new Date(Math.floor(now)).toISOString();
  const micros = String(Math.floor((now % 1) * 1000)).padStart(3, '0');
  return `${iso.slice(0, -1)}${micros}Z`;
}

function userJson(user: UserInfo): Record<string, unknown> {
  return { username: user.name, ...(user.uid ? { uid: user.uid } : {}), ...(user.groups.length ? { groups: user.groups } : {}), ...(user.extra && Object.keys(user.extra).length ? { extra: user.extra } : {}) };
}

/** A body as an object, whichever encoding it came in (JSON, YAML, protobuf, patches); undefined if none. */
function decodeForAudit(body: Buffer | string | undefined, contentType?: string): Record<string, unknown> | undefined {
  if (body === undefined || body.length === 0) return undefined;
  try {
    const value = decodeBody(typeof body === 'string' ? Buffer.from(body) : body, bodyFormat(contentType));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function withoutManagedFields(object: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const metadata = object?.metadata as Record<string, unknown> | undefined;
  if (!metadata?.managedFields) return object;
  const { managedFields: _dropped, ...rest } = metadata;
  return { ...object, metadata: rest };
}

/** One request's audit trail: the exchange wrapper that sees the bodies, and the events it writes. */
export class AuditedRequest {
  readonly auditId: string;
  readonly exchange: Exchange;
  private readonly received = microTimestamp();
  private requestBody?: Buffer;
  private status?: number;
  private responseBody?: Buffer | string;
  private responseType?: string;
  private streaming = false;
  private completed = false;
  private readonly annotations: Record<string, string> = {};
  /** Who the request acts as: the requester, or whom it impersonates. */
  private user: UserInfo;
  // Read once: a closed HTTP/2 stream no longer has a socket to ask.
  private readonly sourceIp: string;
  private readonly userAgent: string | undefined;

  constructor(
    private readonly ex: Exchange,
    private readonly info: RequestInfo,
    private readonly requester: UserInfo,
    private readonly decision: AuditDecision,
    private readonly sink: AuditSink,
  ) {
    this.user = requester;
    this.sourceIp = ex.socket?.remoteAddress ?? '';
    this.userAgent = ex.header('user-agent');
    const given = ex.header('audit-id');
    this.auditId = given && given.length <= 64 ? given : randomUUID();
    ex.responseHeaders = { ...ex.responseHeaders, 'audit-id': this.auditId };
    this.exchange = this.wrap(ex);
    this.emit('RequestReceived');
  }

  setUser(user: UserInfo): void {
    this.user = user;
  }

  annotate(key: string, value: string): void {
    this.annotations[key] = value;
  }

  /** The handler is done: a plain response is complete now, a stream when it closes. */
  finish(): void {
    if (this.streaming) return;
    this.complete('ResponseComplete');
  }

  /** The handler failed with something that is not an API error. */
  panic(): void {
    this.status ??= 500;
    this.complete('Panic');
  }

  private complete(stage: Stage): void {
    if (this.completed) return;
    this.completed = true;
    this.emit(stage);
  }

  private wrap(ex: Exchange): Exchange {
    const self = this;
    return {
      get method() {
        return ex.method;
      },
      get url() {
        return ex.url;
      },
      header: (name) => ex.header(name),
      headerLines: () => ex.headerLines(),
      get socket() {
        return ex.socket;
      },
      async readBody(limit) {
        const body = await ex.readBody(limit);
        self.requestBody = body;
        return body;
      },
      respond(status: number, headers: Headers, body?: Buffer | string) {
        if (!ex.responded) {
          self.status = status;
          self.responseBody = body;
          self.responseType = String(headers['content-type'] ?? '');
        }
        ex.respond(status, headers, body);
      },
      stream(status: number, headers: Headers): ResponseStream {
        self.status = status;
        self.streaming = true;
        const out = ex.stream(status, headers);
        self.emit('ResponseStarted');
        ex.onClose(() => self.complete('ResponseComplete'));
        return out;
      },
      onClose: (listener) => ex.onClose(listener),
      get responded() {
        return ex.responded;
      },
      get status() {
        return ex.status;
      },
      get bytesSent() {
        return ex.bytesSent;
      },
      get streaming() {
        return ex.streaming;
      },
      get user() {
        return ex.user;
      },
      set user(user) {
        ex.user = user;
      },
      get warnings() {
        return ex.warnings;
      },
      set warnings(warnings) {
        ex.warnings = warnings;
      },
      get responseHeaders() {
        return ex.responseHeaders;
      },
      set responseHeaders(headers) {
        ex.responseHeaders = headers;
      },
    };
  }

  private emit(stage: Stage): void {
    if (this.decision.omitStages.has(stage)) return;
    const level = this.decision.level;
    const info = this.info;
    const impersonated = this.user !== this.requester;
    const requestObject = LEVEL_ORDER[level] >= LEVEL_ORDER.Request && stage !== 'RequestReceived' ? decodeForAudit(this.requestBody, this.ex.header('content-type')) : undefined;
    const responseObject = level === 'RequestResponse' && (stage === 'ResponseComplete' || stage === 'Panic') && !this.streaming ? decodeForAudit(this.responseBody, this.responseType) : undefined;
    const event: Record<string, unknown> = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level,
      auditID: this.auditId,
      stage,
      requestURI: this.ex.url,
      verb: info.verb,
      user: userJson(this.requester),
      ...(impersonated ? { impersonatedUser: userJson(this.user) } : {}),
      sourceIPs: [this.sourceIp],
      ...(this.userAgent ? { userAgent: this.userAgent } : {}),
      ...(info.isResourceRequest ? { objectRef: this.objectRef() } : {}),
      ...(this.status !== undefined && stage !== 'RequestReceived' ? { responseStatus: this.responseStatus() } : {}),
      ...(requestObject ? { requestObject: this.decision.omitManagedFields ? withoutManagedFields(requestObject) : requestObject } : {}),
      ...(responseObject ? { responseObject: this.decision.omitManagedFields ? withoutManagedFields(responseObject) : responseObject } : {}),
      requestReceivedTimestamp: this.received,
      stageTimestamp: stage === 'RequestReceived' ? this.received : microTimestamp(),
      ...(Object.keys(this.annotations).length && stage !== 'RequestReceived' ? { annotations: { ...this.annotations } } : {}),
    };
    this.sink.write(JSON.stringify(event) + '\n');
  }

  private objectRef(): Record<string, unknown> {
    const info = this.info;
    let name = info.name;
    let namespace = info.resource === 'namespaces' && !info.name ? undefined : info.namespace;
    // A create names its object in the body (upstream fills the reference from it).
    if (!name && info.verb === 'create' && this.requestBody) {
      const metadata = decodeForAudit(this.requestBody, this.ex.header('content-type'))?.metadata as Record<string, unknown> | undefined;
      if (typeof metadata?.name === 'string') name = metadata.name;
      if (!namespace && typeof metadata?.namespace === 'string') namespace = metadata.namespace;
    }
    return {
      resource: info.resource,
      ...(namespace ? { namespace } : {}),
      ...(name ? { name } : {}),
      ...(info.group ? { apiGroup: info.group } : {}),
      apiVersion: info.version,
      ...(info.subresource ? { subresource: info.subresource } : {}),
    };
  }

  private responseStatus(): Record<string, unknown> {
    const code = this.status!;
    if (code < 300) return { metadata: {}, code };
    const status = decodeForAudit(this.responseBody, this.responseType);
    if (status?.kind !== 'Status') return { metadata: {}, code };
    return { metadata: {}, status: status.status, message: status.message, reason: status.reason, ...(status.details ? { details: status.details } : {}), code };
  }
}
