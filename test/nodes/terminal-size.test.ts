/**
 * The resize channel of exec and attach: JSON TerminalSize messages (`{"Width":…,"Height":…}`),
 * several per chunk or one split over chunks as SPDY delivers them; a malformed or negative one
 * changes nothing; `sized` waits for the first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TerminalSizeHolder } from '../../src/nodes/exec-streams.js';

describe('terminal size', () => {
  it('takes the latest of several messages in one chunk, and one split over two', () => {
    const terminal = new TerminalSizeHolder();
    terminal.accept(Buffer.from('{"Width":80,"Height":24}\n{"Width":100,"Height":30}\n'));
    assert.deepEqual(terminal.current, { width: 100, height: 30 });
    terminal.accept(Buffer.from('{"Width":12'));
    assert.deepEqual(terminal.current, { width: 100, height: 30 });
    terminal.accept(Buffer.from('0,"Height":40}'));
    assert.deepEqual(terminal.current, { width: 120, height: 40 });
  });

  it('ignores malformed and negative sizes', () => {
    const terminal = new TerminalSizeHolder();
    terminal.accept(Buffer.from('{"Width":"wide","Height":2}{nonsense}{"Width":-1,"Height":5}'));
    assert.equal(terminal.current, undefined);
    terminal.accept(Buffer.from('{"Width":7,"Height":3}'));
    assert.deepEqual(terminal.current, { width: 7, height: 3 });
  });

  it('sized resolves at the first size, or after the wait when none comes', async () => {
    const terminal = new TerminalSizeHolder();
    const waiting = terminal.sized(60_000);
    terminal.accept(Buffer.from('{"Width":1,"Height":1}'));
    await waiting;
    await new TerminalSizeHolder().sized(10);
  });
});
