/** Writing responses: objects as their stored bytes, Status errors, and watch streams. */
import { ApiError, errors } from '../api/status.js';
import { tableJson, type IncludeObject } from '../api/table.js';
import type { GenericStore } from '../registry/generic-store.js';
import { apiVersionOf } from '../registry/strategy.js';
import { RevisionCompactedError, type EventType, type StoredObject, type Watcher } from '../storage/store.js';
import type { Exchange, Headers, ResponseStream } from './exchange.js';
import { log } from './log.js';
import { encodedOnce, jsonWatchEvent } from './watch-encoding.js';

const JSON_TYPE = 'application/json';

function warningHeaders(warnings: readonly string[] | undefined): Headers {
  if (!warnings || warnings.length === 0) return {};
  return { warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) };
}

export function respondJson(ex: Exchange, status: number, body: string | Buffer, contentType = JSON_TYPE, warnings?: readonly string[]): void {
  const all = ex.warnings?.length ? [...ex.warnings, ...(warnings ?? [])] : warnings;
  ex.respond(status, { 'content-type': contentType, ...warningHeaders(all) }, body);
}

export function respondObject(ex: Exchange, status: number, stored: StoredObject, warnings?: readonly string[]): void {
  respondJson(ex, status, stored.json, JSON_TYPE, warnings);
}

export function respondError(ex: Exchange, error: unknown): void {
  let apiError: ApiError;
  if (error instanceof ApiError) apiError = error;
  else {
    log.error('request failed', { method: ex.method, url: ex.url, error: (error as Error)?.stack ?? String(error) });
    apiError = errors.internal((error as Error)?.message ?? String(error));
  }
  const headers: Headers = { 'content-type': JSON_TYPE, ...warningHeaders(ex.warnings) };
  if (apiError.details?.retryAfterSeconds) headers['retry-after'] = String(apiError.details.retryAfterSeconds);
  ex.respond(apiError.code, headers, JSON.stringify(apiError.toStatus()));
}

export interface WatchRequest {
  namespace: string | undefined;
  filter?: (stored: StoredObject) => boolean;
  resourceVersion: string;
  sendInitialEvents: boolean;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  /** Set when the client asked for Table rows. */
  table?: IncludeObject;
  /** Told of every event written (its bytes): apiserver_watch_events_*. */
  eventSent?: (bytes: number) => void;
}

const BOOKMARK_INTERVAL_MS = 30_000;
/** A watcher this far behind is cut off; the client re-lists, as with upstream's slow watchers. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
const DEFAULT_WATCH_SECONDS = 1800;

export function startWatch(ex: Exchange, generic: GenericStore, request: WatchRequest): void {
  const strategy = generic.strategy;
  const rv = request.resourceVersion;
  if (rv !== '' && !/^\d+$/.test(rv)) throw new ApiError(400, 'BadRequest', `invalid resourceVersion: ${JSON.stringify(rv)}`);
  const fromRevision = rv === '' ? 0 : Number(rv);
  const initial = rv === '' || rv === '0' || request.sendInitialEvents;
  const contentType = request.table ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : JSON_TYPE;

  let sentHeaders = false;
  // Encoded once per event and shape for all watchers (watch-encoding.ts).
  const encode = (type: string, stored: StoredObject): Buffer => {
    if (!request.table) return encodedOnce(stored, type, () => jsonWatchEvent(type, stored));
    const withHeaders = !sentHeaders;
    sentHeaders = true;
    const shape = `${type} Table ${apiVersionOf(strategy)} ${strategy.kind} ${request.table} ${withHeaders}`;
    return encodedOnce(stored, shape, () => `{"type":"${type}","object":${tableJson(strategy, [stored], { resourceVersion: String(stored.revision) }, request.table!, withHeaders)}}\n`);
  };

  let stream: ResponseStream;
  let watcher: Watcher | undefined;
  const startRevision = initial ? generic.visibleRevision : fromRevision;
  const queue: (string | Buffer)[] = [];
  let live = false;
  const sent = request.eventSent;
  const write = (chunk: string | Buffer) => {
    stream.write(chunk);
    sent?.(Buffer.byteLength(chunk));
  };
  const send = (chunk: string | Buffer) => {
    if (!live) {
      queue.push(chunk);
      return;
    }
    if (stream.closed) return;
    write(chunk);
    if (stream.bufferedBytes > MAX_BUFFERED_BYTES) finish();
  };
  try {
    watcher = generic.watch(request.namespace, { fromRevision: startRevision, filter: request.filter }, (event, type: EventType) => send(encode(type, event.current)));
  } catch (error) {
    if (error instanceof RevisionCompactedError) {
      // Upstream answers an expired watch with an ERROR event on a 200 stream.
      const status = new ApiError(410, 'Expired', error.message).toStatus();
      ex.respond(200, { 'content-type': contentType }, `{"type":"ERROR","object":${JSON.stringify(status)}}\n`);
      return;
    }
    throw error;
  }
  stream = ex.stream(200, { 'content-type': contentType, 'cache-control': 'no-cache, private', ...warningHeaders(ex.warnings) });

  if (initial) {
    const { items } = generic.list(request.namespace, { atRevision: startRevision, filter: request.filter });
    for (const item of items) write(encode('ADDED', item));
    if (request.sendInitialEvents && request.allowBookmarks) write(bookmark(generic, startRevision, true));
  }
  live = true;
  for (const chunk of queue.splice(0)) send(chunk);

  let lastRevision = startRevision;
  const bookmarkTimer = request.allowBookmarks
    ? setInterval(() => {
        lastRevision = Math.max(lastRevision, generic.visibleRevision);
        send(bookmark(generic, lastRevision, false));
      }, BOOKMARK_INTERVAL_MS)
    : undefined;
  const timeout = setTimeout(finish, (request.timeoutSeconds ?? DEFAULT_WATCH_SECONDS * (1 + Math.random())) * 1000);

  function finish() {
    watcher?.close();
    clearInterval(bookmarkTimer);
    clearTimeout(timeout);
    stream.end();
  }
  ex.onClose(finish);
}

function bookmark(generic: GenericStore, revision: number, initialEventsEnd: boolean): string {
  const metadata: Record<string, unknown> = { resourceVersion: String(revision) };
  if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  const object = { kind: generic.strategy.kind, apiVersion: apiVersionOf(generic.strategy), metadata };
  return `{"type":"BOOKMARK","object":${JSON.stringify(object)}}\n`;
}
