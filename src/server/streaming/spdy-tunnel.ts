/**
 * SPDY tunnelled through a WebSocket (KEP-4006 PortForwardWebsockets, upstream's apiserver
 * TunnelingHandler): kubectl 1.31+ asks for pods/portforward as a WebSocket with subprotocol
 * `SPDY/3.1+portforward.k8s.io` and then speaks SPDY/3.1 inside binary messages. The API server
 * makes the kubelet request a plain SPDY upgrade (POST, `Upgrade: SPDY/3.1`, the protocols
 * without the prefix); on 101 it completes the WebSocket handshake with the kubelet's chosen
 * protocol (prefixed again) and shuttles bytes: each message's payload to the kubelet, each
 * kubelet read as one message. Any other kubelet answer is passed back as it is, so the client
 * sees an upgrade failure (and falls back to SPDY).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SPDY_UPGRADE } from './spdy.js';

export const TUNNEL_PREFIX = 'SPDY/3.1+';
const MAX_RESPONSE_HEAD = 64 * 1024;
/** Bytes queued towards the WebSocket client before the kubelet side is paused. */
const HIGH_WATER_BYTES = 1024 * 1024;

/** The SPDY protocols a WebSocket request tunnels (its `SPDY/3.1+…k8s.io` subprotocols, prefix removed). */
export function tunneledProtocols(request: IncomingMessage): string[] {
  const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  return offered.filter((p) => p.startsWith(TUNNEL_PREFIX) && p.endsWith('.k8s.io')).map((p) => p.slice(TUNNEL_PREFIX.length));
}

export interface TunnelOptions {
  request: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  protocols: string[];
  /** A connected (or connecting) stream to the kubelet; `ready` fires once it can be written. */
  upstream: Duplex;
  ready: string;
  /** The request line's target and Host for the kubelet. */
  path: string;
  host: string;
  /** Written to the client if the kubelet cannot be reached. */
  onDialError(error: Error): void;
}

export function tunnelSpdyOverWebSocket(options: TunnelOptions): void {
  const { upstream, socket } = options;
  let head = Buffer.alloc(0);
  let decided = false;
  const close = () => {
    socket.destroy();
    upstream.destroy();
  };
  upstream.once(options.ready, () => {
    const lines = [`POST ${options.path} HTTP/1.1`, `Host: ${options.host}`, 'Connection: Upgrade', `Upgrade: ${SPDY_UPGRADE}`, ...options.protocols.map((p) => `X-Stream-Protocol-Version: ${p}`), 'Content-Length: 0'];
    const userAgent = options.request.headers['user-agent'];
    if (userAgent) lines.push(`User-Agent: ${userAgent}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
  const onHead = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > MAX_RESPONSE_HEAD) close();
      return;
    }
    decided = true;
    upstream.off('data', onHead);
    upstream.pause();
    const headText = head.subarray(0, end).toString('latin1');
    const rest = head.subarray(end + 4);
    const [statusLine, ...headerLines] = headText.split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
    const headers = new Map(headerLines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    if (status === 101 && (headers.get('upgrade') ?? '').toLowerCase().includes(SPDY_UPGRADE.toLowerCase())) {
      const chosen = headers.get('x-stream-protocol-version');
      accept(chosen ? `${TUNNEL_PREFIX}${chosen}` : undefined, rest);
    } else {
      // Not an upgrade: the kubelet's answer goes back unchanged, then the connection ends.
      socket.write(head);
      upstream.pipe(socket);
      upstream.resume();
    }
  };
  upstream.on('data', onHead);
  upstream.on('error', (error) => {
    if (!decided) options.onDialError(error);
    close();
  });
  upstream.on('close', () => {
    if (decided) return;
    close();
  });
  socket.on('error', close);
  socket.on('close', () => upstream.destroy());

  function accept(protocol: string | undefined, early: Buffer): void {
    // `ws` accepts only RFC 7230 tokens as subprotocols, and these have a '/': the header is answered here.
    const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false });
    delete options.request.headers['sec-websocket-protocol'];
    if (protocol) wss.on('headers', (headers: string[]) => headers.push(`Sec-WebSocket-Protocol: ${protocol}`));
    wss.handleUpgrade(options.request, socket, options.head, (ws: WebSocket) => {
      const toClient = (data: Buffer) => {
        if (ws.readyState !== ws.OPEN) return;
        ws.send(data, { binary: true }, () => {
          if (upstream.isPaused() && ws.bufferedAmount < HIGH_WATER_BYTES / 2) upstream.resume();
        });
        if (ws.bufferedAmount > HIGH_WATER_BYTES) upstream.pause();
      };
      if (early.length > 0) toClient(early);
      upstream.on('data', toClient);
      upstream.resume();
      ws.on('message', (data: Buffer) => {
        if (!upstream.write(data)) {
          ws.pause();
          upstream.once('drain', () => ws.resume());
        }
      });
      const end = () => {
        if (ws.readyState === ws.OPEN) ws.close(1000);
        upstream.end();
      };
      upstream.on('end', end);
      upstream.on('close', () => ws.terminate());
      ws.on('close', () => upstream.destroy());
      ws.on('error', () => upstream.destroy());
    });
  }
}
