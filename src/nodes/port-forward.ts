/**
 * The kubelet's port-forward protocol (`portforward.k8s.io`, kubelet's server/portforward
 * httpstream handler) over one SPDY session: per forwarded connection the client opens an `error`
 * stream and a `data` stream with the same `requestID` and `port` headers. Once both are there the
 * data stream is connected to the pod's port — here the in-agent echo service, which answers every
 * byte on any port with itself — and when the client half-closes the data stream, the kubelet
 * closes both (an empty error stream: no error). A bad port header is reported on the error stream,
 * as upstream's "error forwarding port" message.
 */
import type { SpdySession, SpdyStream } from '../server/streaming/spdy.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** Unpaired streams of one request are reset after this long (upstream's stream creation timeout is 30 s). */
const PAIR_TIMEOUT_MS = 30_000;

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** The request a stream belongs to: its requestID header, or (old clients) derived from its id as upstream does. */
function requestIdOf(stream: SpdyStream): string {
  const given = stream.header('requestid');
  if (given) return given;
  return String(stream.header('streamtype') === 'data' ? stream.id - 2 : stream.id);
}

export function servePortForward(session: SpdySession, pod: { namespace: string; name: string; uid: string }): void {
  const pairs = new Map<string, Pair>();
  session.on('stream', (stream: SpdyStream) => {
    const type = stream.header('streamtype');
    if (type !== 'data' && type !== 'error') {
      stream.reset();
      return;
    }
    stream.reply();
    const id = requestIdOf(stream);
    let pair = pairs.get(id);
    if (!pair) {
      const timer = setTimeout(() => {
        pairs.delete(id);
        pair?.data?.reset();
        pair?.error?.reset();
      }, PAIR_TIMEOUT_MS);
      timer.unref();
      pair = { timer };
      pairs.set(id, pair);
    }
    if (pair[type]) {
      stream.reset();
      return;
    }
    pair[type] = stream;
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(id);
      forward(pair.data, pair.error, pod);
    }
  });
  session.on('close', () => {
    for (const pair of pairs.values()) clearTimeout(pair.timer);
    pairs.clear();
  });
}

function forward(data: SpdyStream, error: SpdyStream, pod: { namespace: string; name: string; uid: string }): void {
  const portHeader = data.header('port') ?? '';
  const port = /^\d+$/.test(portHeader) ? Number(portHeader) : NaN;
  if (!(port > 0 && port <= 65535)) {
    error.end(`error forwarding port ${Number.isNaN(port) ? 0 : port} to pod ${pod.name}, uid ${pod.uid}: invalid port ${JSON.stringify(portHeader)}`);
    data.end();
    return;
  }
  // The echo service: what arrives goes back; the client's FIN ends the connection.
  data.on('data', (chunk: Buffer) => data.write(chunk));
  data.on('end', () => {
    data.end();
    error.end();
  });
}
