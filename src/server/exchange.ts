/**
 * One request/response, whichever transport carried it. HTTP/2 uses Node's stream API (the fast
 * path kubectl and client-go take); HTTP/1.1 uses the classic request/response objects.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { constants as h2 } from 'node:http2';
import type { Duplex, Writable } from 'node:stream';
import { errors } from '../api/status.js';
import type { UserInfo } from '../auth/authenticate.js';

export type Headers = Record<string, string | number | string[]>;

export interface ResponseStream {
  /** Writes a chunk; returns false when the peer is slow (back-pressure). */
  write(chunk: Buffer | string): boolean;
  end(): void;
  readonly closed: boolean;
  /** Bytes written but not yet taken by the peer. */
  readonly bufferedBytes: number;
}

export interface Exchange {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  header(name: string): string | undefined;
  /** Every header line as sent (names lower-case), repeated headers kept apart (impersonation needs them). */
  headerLines(): Array<[string, string]>;
  readonly socket: TLSSocket;
  /** Reads the whole body, refusing more than `limit` bytes with 413. */
  readBody(limit: number): Promise<Buffer>;
  respond(status: number, headers: Headers, body?: Buffer | string): void;
  /** Starts a long-lived streamed response (watch). */
  stream(status: number, headers: Headers): ResponseStream;
  onClose(listener: () => void): void;
  readonly responded: boolean;
  /** The status answered (undefined before), and the body bytes sent so far (metrics, request logs). */
  readonly status: number | undefined;
  readonly bytesSent: number;
  /** True while a streamed response (watch) is open: it ends on the close event. */
  readonly streaming: boolean;
  /** Who sent the request, once authenticated (what admission and audit see). */
  user?: UserInfo;
  /** Warnings for the client beyond the response's own (deprecated versions, admission webhooks). */
  warnings?: string[];
  /** Headers every response to this request carries (e.g. API Priority and Fairness's UIDs). */
  responseHeaders?: Headers;
  /** An HTTP/1.1 Upgrade request (exec, attach, port-forward): the raw connection, for a handler to take over. */
  upgrade?: { socket: Duplex; head: Buffer; request: IncomingMessage };
  /** Set by the handler that took the connection over. */
  upgraded?: boolean;
}

/** Both transports' response bodies are Node writables. */
function responseStream(out: Writable, sent: (bytes: number) => void): ResponseStream {
  return {
    write: (chunk) => {
      if (out.destroyed) return false;
      sent(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
      return out.write(chunk);
    },
    end: () => {
      if (!out.destroyed) out.end();
    },
    get closed() {
      return out.destroyed || out.writableEnded;
    },
    get bufferedBytes() {
      return out.writableLength;
    },
  };
}

/** 204, 304 and HEAD responses carry no body; HTTP/2 closes such streams on the headers. */
function hasBody(status: number, method: string): boolean {
  return status !== 204 && status !== 304 && method !== 'HEAD';
}

function tooLarge(limit: number) {
  return errors.tooLarge(`Request entity too large: limit is ${limit}`);
}

export class Http2Exchange implements Exchange {
  user?: UserInfo;
  responseHeaders?: Headers;
  readonly method: string;
  readonly url: string;
  responded = false;
  status: number | undefined;
  bytesSent = 0;
  streaming = false;

  constructor(private readonly h2stream: ServerHttp2Stream, private readonly headers: IncomingHttpHeaders, private readonly rawHeaders: string[] = []) {
    this.method = String(headers[h2.HTTP2_HEADER_METHOD] ?? 'GET');
    this.url = String(headers[h2.HTTP2_HEADER_PATH] ?? '/');
    // A peer resetting its stream must never take the process down.
    h2stream.on('error', () => {});
  }

  get socket(): TLSSocket {
    return this.h2stream.session!.socket as TLSSocket;
  }

  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  headerLines(): Array<[string, string]> {
    return pairs(this.rawHeaders).filter(([name]) => !name.startsWith(':'));
  }

  readBody(limit: number): Promise<Buffer> {
    return readStream(this.h2stream, limit, Number(this.header('content-length') ?? -1));
  }

  respond(status: number, headers: Headers, body?: Buffer | string): void {
    if (this.responded || this.h2stream.destroyed || this.h2stream.closed) return;
    this.responded = true;
    if (this.responseHeaders) headers = { ...this.responseHeaders, ...headers };
    const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    this.status = status;
    this.bytesSent = payload?.length ?? 0;
    if (!hasBody(status, this.method)) {
      this.h2stream.respond({ ':status': status, ...headers }, { endStream: true });
      return;
    }
    this.h2stream.respond({ ':status': status, ...headers, ...(payload ? { 'content-length': payload.length } : {}) });
    this.h2stream.end(payload);
  }

  stream(status: number, headers: Headers): ResponseStream {
    this.responded = true;
    this.status = status;
    this.streaming = true;
    this.h2stream.once('close', () => (this.streaming = false));
    this.h2stream.respond({ ':status': status, ...this.responseHeaders, ...headers });
    return responseStream(this.h2stream, (bytes) => (this.bytesSent += bytes));
  }

  onClose(listener: () => void): void {
    this.h2stream.once('close', listener);
  }
}

export class Http1Exchange implements Exchange {
  user?: UserInfo;
  responseHeaders?: Headers;
  upgrade?: { socket: Duplex; head: Buffer; request: IncomingMessage };
  upgraded?: boolean;
  responded = false;
  status: number | undefined;
  bytesSent = 0;
  streaming = false;

  constructor(private readonly req: IncomingMessage, private readonly res: ServerResponse) {}

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get url(): string {
    return this.req.url ?? '/';
  }

  get socket(): TLSSocket {
    return this.req.socket as TLSSocket;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  headerLines(): Array<[string, string]> {
    return pairs(this.req.rawHeaders);
  }

  readBody(limit: number): Promise<Buffer> {
    return readStream(this.req, limit, Number(this.header('content-length') ?? -1));
  }

  respond(status: number, headers: Headers, body?: Buffer | string): void {
    if (this.responded || this.res.destroyed) return;
    this.responded = true;
    if (this.responseHeaders) headers = { ...this.responseHeaders, ...headers };
    const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    this.status = status;
    this.bytesSent = payload?.length ?? 0;
    if (!hasBody(status, this.method)) {
      this.res.writeHead(status, headers);
      this.res.end();
      return;
    }
    this.res.writeHead(status, { ...headers, ...(payload ? { 'content-length': payload.length } : {}) });
    this.res.end(payload);
  }

  stream(status: number, headers: Headers): ResponseStream {
    this.responded = true;
    this.status = status;
    this.streaming = true;
    this.res.once('close', () => (this.streaming = false));
    this.res.writeHead(status, { ...this.responseHeaders, ...headers });
    this.res.flushHeaders();
    return responseStream(this.res, (bytes) => (this.bytesSent += bytes));
  }

  onClose(listener: () => void): void {
    this.res.once('close', listener);
  }
}

function pairs(raw: readonly string[]): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) lines.push([raw[i].toLowerCase(), raw[i + 1]]);
  return lines;
}

function readStream(source: NodeJS.ReadableStream & { destroy?: () => void }, limit: number, declaredLength: number): Promise<Buffer> {
  if (declaredLength > limit) {
    source.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    source.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    source.once('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    source.once('error', (error) => {
      if (!failed) reject(error);
      failed = true;
    });
  });
}
