/**
 * A small HTTP/2 client pool for loading data and for writes and watches (where the server, not
 * the client, is the bottleneck): several TLS sessions, a bearer token, bounded concurrency.
 */
import { connect, type ClientHttp2Session } from 'node:http2';

export interface Response {
  status: number;
  body: Buffer;
}

export class ClientPool {
  private readonly sessions: ClientHttp2Session[] = [];
  private next = 0;

  private constructor(private readonly token: string) {}

  static async open(url: string, token: string, sessions: number): Promise<ClientPool> {
    const pool = new ClientPool(token);
    for (let i = 0; i < sessions; i++) {
      // The benchmark's server uses a CA made at its start: the client checks nothing, as h2load.
      const session = connect(url, { rejectUnauthorized: false, settings: { initialWindowSize: 8 << 20 } });
      session.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        session.once('connect', () => resolve());
        session.once('error', reject);
      });
      session.setLocalWindowSize?.(32 << 20);
      pool.sessions.push(session);
    }
    return pool;
  }

  /** The session for the `i`th worker (workers keep theirs, as separate kubectl processes would). */
  session(i?: number): ClientHttp2Session {
    return this.sessions[(i ?? this.next++) % this.sessions.length];
  }

  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, worker?: number): Promise<Response> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const req = this.session(worker).request({
        ':method': method,
        ':path': path,
        authorization: `Bearer ${this.token}`,
        ...(payload ? { 'content-type': 'application/json' } : {}),
        ...headers,
      });
      const chunks: Buffer[] = [];
      let status = 0;
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async expect(method: string, path: string, body?: unknown, headers?: Record<string, string>, ok: number[] = [200, 201]): Promise<Response> {
    const res = await this.request(method, path, body, headers);
    if (!ok.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${res.body.toString().slice(0, 400)}`);
    return res;
  }

  /** A streaming GET (a watch): `onLine` gets each complete line; `line` is the raw text. */
  stream(path: string, onLine: (line: string) => void, worker?: number): { close(): void; done: Promise<void> } {
    const req = this.session(worker).request({ ':path': path, authorization: `Bearer ${this.token}` });
    let buffered = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line) onLine(line);
      }
    });
    const done = new Promise<void>((resolve) => {
      req.on('close', () => resolve());
      req.on('error', () => resolve());
    });
    return { close: () => req.close(), done };
  }

  close(): void {
    for (const s of this.sessions) s.close();
  }
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at a time. */
export async function runConcurrently(count: number, concurrency: number, task: (i: number, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (w: number) => {
    while (next < count && failure === undefined) {
      const i = next++;
      try {
        await task(i, w);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, w) => worker(w)));
  if (failure !== undefined) throw failure;
}
