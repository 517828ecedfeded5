/**
 * SPDY/3.1 sessions (src/server/streaming/spdy.ts) between a client and a server session over a
 * loopback TCP connection: header blocks survive the shared zlib context, streams carry data,
 * half-close and reset, pings are answered, and garbage ends the session without a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { inflateSync, constants } from 'node:zlib';
import { SpdySession, type SpdyStream } from '../../src/server/streaming/spdy.js';
import { HeaderCompressor, HeaderDecompressor, SPDY3_DICTIONARY } from '../../src/server/streaming/spdy-headers.js';
import { servePortForward } from '../../src/nodes/port-forward.js';

async function pair(): Promise<{ client: SpdySession; server: SpdySession; raw: Socket; close(): void }> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection');
  const raw = connect((listener.address() as { port: number }).port, '127.0.0.1');
  await once(raw, 'connect');
  const [serverSocket] = (await accepted) as [Socket];
  listener.close();
  const client = new SpdySession(raw, 'client');
  const server = new SpdySession(serverSocket, 'server');
  return { client, server, raw, close: () => (client.destroy(), server.destroy()) };
}

function collect(stream: SpdyStream): Promise<string> {
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return new Promise((resolve) => stream.once('end', () => resolve(text)));
}

test('header blocks: many in one zlib context, read back by a real inflater with the SPDY/3 dictionary', async () => {
  const compressor = new HeaderCompressor();
  const decompressor = new HeaderDecompressor();
  const blocks = Array.from({ length: 50 }, (_, i) => ({ streamtype: [i % 2 ? 'data' : 'error'], port: [String(8000 + i)], requestid: [String(i)], multi: ['a', 'b'] }));
  const compressed = blocks.map((headers) => compressor.compress(headers));
  for (const [i, bytes] of compressed.entries()) assert.deepEqual(await decompressor.decompress(bytes), blocks[i]);
  // The whole stream is one valid zlib stream announcing the dictionary (what Go's reader checks).
  const all = inflateSync(Buffer.concat(compressed), { dictionary: SPDY3_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
  assert.ok(all.length > 0);
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  decompressor.close();
});

test('streams: open, reply, data both ways, half-close, reset', async () => {
  const { client, server, close } = await pair();
  try {
    server.on('stream', (stream: SpdyStream) => {
      assert.equal(stream.header('streamType'), 'data');
      if (stream.header('port') === '0') return stream.reset();
      stream.reply();
      stream.on('data', (chunk: Buffer) => stream.write(Buffer.from(chunk.toString().toUpperCase())));
      stream.on('end', () => stream.end('!'));
    });
    const stream = client.createStream({ streamtype: ['data'], port: ['80'] });
    await once(stream, 'reply');
    const echoed = collect(stream);
    stream.write('hello ');
    stream.write(Buffer.alloc(100_000, 'x'));
    stream.end();
    const text = await echoed;
    assert.equal(text, `HELLO ${'X'.repeat(100_000)}!`);
    assert.equal(stream.closed, true);
    const refused = client.createStream({ streamtype: ['data'], port: ['0'] });
    await once(refused, 'reset');
    assert.equal(refused.closed, true);
    assert.equal(client.openStreams, 0);
  } finally {
    close();
  }
});

test('port-forward: error and data streams paired by requestID; the echo ends both when the client half-closes', async () => {
  const { client, server, close } = await pair();
  try {
    servePortForward(server, { namespace: 'ns', name: 'pod', uid: 'u1' });
    const open = async (requestId: string, port: string) => {
      const error = client.createStream({ streamtype: ['error'], port: [port], requestid: [requestId] });
      await once(error, 'reply');
      error.end();
      const data = client.createStream({ streamtype: ['data'], port: [port], requestid: [requestId] });
      await once(data, 'reply');
      return { error, data, errorText: collect(error), dataText: collect(data) };
    };
    const [a, b] = await Promise.all([open('0', '8080'), open('1', '9090')]);
    a.data.write('first');
    b.data.write('second');
    a.data.end();
    b.data.end();
    assert.equal(await a.dataText, 'first');
    assert.equal(await b.dataText, 'second');
    assert.equal(await a.errorText, '');
    const bad = await open('2', 'http');
    assert.match(await bad.errorText, /^error forwarding port 0 to pod pod, uid u1: invalid port "http"/);
  } finally {
    close();
  }
});

test('pings are answered; garbage ends the session without throwing', async () => {
  const { client, server, raw, close } = await pair();
  try {
    const pong = new Promise<void>((resolve) => raw.on('data', (chunk: Buffer) => chunk.readUInt16BE(2) === 6 && resolve()));
    client.ping();
    await pong;
    const closed = once(server, 'close');
    // A control frame of version 2, then noise.
    raw.write(Buffer.from([0x80, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff]));
    await closed;
    assert.equal(server.ended, true);
  } finally {
    close();
  }
});

test('a header block that does not inflate is a protocol error, not a crash', async () => {
  const { server, raw, close } = await pair();
  try {
    const closed = once(server, 'close');
    const payload = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from('this is not zlib at all')]);
    const head = Buffer.alloc(8);
    head.writeUInt16BE(0x8003, 0);
    head.writeUInt16BE(1, 2);
    head.writeUInt32BE(payload.length, 4);
    raw.write(Buffer.concat([head, payload]));
    await closed;
    assert.equal(server.ended, true);
  } finally {
    close();
  }
});
