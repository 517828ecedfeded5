/**
 * The streams of one exec or attach session, whichever protocol carries them: WebSocket
 * (`v5`/`v4.channel.k8s.io`: one message per write, its first byte the channel) or SPDY
 * (`v4`…`v1` `channel.k8s.io`: one SPDY stream per channel, named by its `streamType` header, as
 * kubelet's remotecommand httpstream handler waits for them). The command code sees stdin,
 * stdout, stderr, the final status and the moment the client went away, and nothing of the wire.
 */
import type { WebSocket } from 'ws';
import type { SpdySession, SpdyStream } from '../server/streaming/spdy.js';

export const WEBSOCKET_CHANNEL_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
export const SPDY_CHANNEL_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
/** How long the client has to open the streams it asked for (upstream's stream creation timeout). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

/** An async iterable of chunks pushed by the client's stdin. */
export class Pipe implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  private waiting?: () => void;
  private ended = false;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.waiting?.();
  }

  end(): void {
    this.ended = true;
    this.waiting?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      while (this.chunks.length > 0) yield this.chunks.shift()!;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = undefined;
    }
  }
}

/** A terminal's size as the client's resize messages give it (remotecommand's TerminalSize). */
export interface TerminalSize {
  width: number;
  height: number;
}

/** The latest size the client sent on its resize channel (none before the first message). */
export class TerminalSizeHolder {
  current: TerminalSize | undefined;
  private pending = '';
  private firstArrived?: () => void;
  private readonly first = new Promise<void>((resolve) => (this.firstArrived = resolve));

  /** Resolves once the first size came in, or after `timeoutMs` (a client may send none). */
  sized(timeoutMs: number): Promise<void> {
    if (this.current) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([this.first, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]).finally(() => clearTimeout(timer));
  }

  /** Takes one resize payload: JSON objects (`{"Width":…,"Height":…}`), as many as the bytes hold. */
  accept(chunk: Buffer): void {
    this.pending += chunk.toString('utf8');
    let end: number;
    while ((end = this.pending.indexOf('}')) >= 0) {
      const text = this.pending.slice(0, end + 1);
      this.pending = this.pending.slice(end + 1);
      try {
        const size = JSON.parse(text.slice(text.indexOf('{')));
        if (Number.isInteger(size?.Width) && Number.isInteger(size?.Height) && size.Width >= 0 && size.Height >= 0) {
          this.current = { width: size.Width, height: size.Height };
          this.firstArrived?.();
        }
      } catch {
        // A malformed message changes nothing, as upstream's handler logs and goes on.
      }
    }
    if (this.pending.length > 4096) this.pending = '';
  }
}

export interface ExecStreams {
  stdin: Pipe;
  /** The terminal's size, when the session has a TTY and the client sent one. */
  terminal: TerminalSizeHolder;
  /** Resolves when the client goes away. */
  aborted: Promise<void>;
  stdout(data: string | Buffer): void;
  stderr(data: string | Buffer): void;
  /** The command's outcome, a metav1.Status (Success, or Failure with the exit code). */
  status(status: Record<string, unknown>): void;
  close(): void;
}

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** What the kubelet reads from an exec/attach query (upstream takes "1"; "true" is what the API server passes on). */
export function streamOptions(query: URLSearchParams): StreamOptions {
  const flag = (name: string) => query.get(name) === 'true' || query.get(name) === '1';
  const tty = flag('tty');
  return { stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr') && !tty, tty };
}

export function webSocketStreams(ws: WebSocket, wantsStdin: boolean): ExecStreams {
  const stdin = new Pipe();
  const terminal = new TerminalSizeHolder();
  let abort!: () => void;
  const aborted = new Promise<void>((resolve) => (abort = resolve));
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = isBinary ? data : Buffer.from(data);
    if (frame.length === 0) return;
    if (frame[0] === STDIN && wantsStdin) stdin.push(frame.subarray(1));
    else if (frame[0] === RESIZE) terminal.accept(frame.subarray(1));
    else if (frame[0] === CLOSE && frame[1] === STDIN) stdin.end();
  });
  ws.on('close', () => {
    stdin.end();
    abort();
  });
  ws.on('error', () => abort());
  const send = (channel: number, data: string | Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    ws.send(Buffer.concat([Buffer.from([channel]), payload]), { binary: true });
  };
  return {
    stdin,
    terminal,
    aborted,
    stdout: (data) => send(STDOUT, data),
    stderr: (data) => send(STDERR, data),
    status: (status) => send(ERROR, JSON.stringify(status)),
    close() {
      if (ws.readyState === ws.OPEN) ws.close(1000);
    },
  };
}

/**
 * Waits for the streams the client asked for on a SPDY session (error always; stdin, stdout,
 * stderr as the query says; resize with a TTY from v3 on) and returns them, or undefined (the
 * session closed) when they do not all come in time.
 */
export function spdyStreams(session: SpdySession, protocol: string, options: StreamOptions): Promise<ExecStreams | undefined> {
  const version = protocol === 'v4.channel.k8s.io' ? 4 : protocol === 'v3.channel.k8s.io' ? 3 : protocol === 'v2.channel.k8s.io' ? 2 : 1;
  const wanted = new Set(['error', ...(options.stdin ? ['stdin'] : []), ...(options.stdout ? ['stdout'] : []), ...(options.stderr ? ['stderr'] : []), ...(options.tty && version >= 3 ? ['resize'] : [])]);
  const streams = new Map<string, SpdyStream>();
  const stdin = new Pipe();
  const terminal = new TerminalSizeHolder();
  let abort!: () => void;
  const aborted = new Promise<void>((resolve) => (abort = resolve));
  session.once('close', () => {
    stdin.end();
    abort();
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      session.close();
      resolve(undefined);
    }, STREAM_CREATION_TIMEOUT_MS);
    timer.unref();
    session.once('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    session.on('stream', (stream: SpdyStream) => {
      const type = stream.header('streamtype') ?? '';
      if (!wanted.has(type) || streams.has(type)) {
        stream.reset();
        return;
      }
      stream.reply();
      streams.set(type, stream);
      if (type === 'stdin') {
        stream.on('data', (chunk: Buffer) => stdin.push(chunk));
        stream.on('end', () => stdin.end());
      }
      if (type === 'resize') stream.on('data', (chunk: Buffer) => terminal.accept(chunk));
      if (streams.size < wanted.size) return;
      clearTimeout(timer);
      const write = (type: string, data: string | Buffer) => streams.get(type)?.write(data);
      resolve({
        stdin,
        terminal,
        aborted,
        stdout: (data) => write('stdout', data),
        stderr: (data) => write('stderr', data),
        status(status) {
          // v4 reports every outcome as a Status; older versions only a failure's message.
          if (version >= 4) write('error', JSON.stringify(status));
          else if (status.status !== 'Success') write('error', String(status.message ?? 'error'));
        },
        close() {
          for (const [type, stream] of streams) if (type !== 'stdin' && type !== 'resize') stream.end();
          session.close();
        },
      });
    });
  });
}
