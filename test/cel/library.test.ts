import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile, toCel, CelCompileError, CelEvaluationError } from '../../src/cel/program.js';

function run(expression: string, self: unknown = null): unknown {
  return compile(expression, ['self']).evaluate({ self: toCel(self) }).value;
}

describe('Kubernetes CEL libraries', () => {
  it('lists: isSorted, sum, min, max, indexOf, lastIndexOf', () => {
    assert.equal(run('self.isSorted()', [1, 2, 2, 3]), true);
    assert.equal(run('self.isSorted()', ['b', 'a']), false);
    assert.equal(run('self.sum()', [1, 2, 3]), 6n);
    assert.equal(run('self.min()', [3, 1, 2]), 1n);
    assert.equal(run('self.max()', ['a', 'c', 'b']), 'c');
    assert.equal(run('self.indexOf(2)', [1, 2, 2]), 1n);
    assert.equal(run('self.lastIndexOf(2)', [1, 2, 2]), 2n);
  });

  it('strings extension and RE2 regular expressions', () => {
    assert.equal(run("self.lowerAscii().startsWith('abc')", 'ABCd'), true);
    assert.equal(run("self.split(',').size()", 'a,b,c'), 3n);
    assert.equal(run("self.matches('^[a-z]+$')", 'abc'), true);
    // RE2 is linear: a pattern that makes a backtracking engine hang answers at once.
    assert.equal(run("self.matches('(a+)+!$')", 'a'.repeat(5000) + '!'), true);
    assert.equal(run("self.matches('^(a+)+$')", 'a'.repeat(5000) + '!'), false);
  });

  it('URLs', () => {
    assert.equal(run("isURL(self) && url(self).getScheme() == 'https'", 'https://example.com:8443/a/b'), true);
    assert.equal(run('url(self).getHost()', 'https://example.com:8443/a/b'), 'example.com:8443');
    assert.equal(run('url(self).getPort()', 'https://example.com:8443/a/b'), '8443');
    assert.equal(run('url(self).getEscapedPath()', 'https://example.com/a%20b'), '/a%20b');
    assert.equal(run('isURL(self)', 'not a url'), false);
  });

  it('integers from JSON are int, schema numbers are double', () => {
    assert.equal(run('self.replicas + 1', { replicas: 2 }), 3n);
    assert.equal(compile('self.ratio * 2.0', ['self']).evaluate({ self: toCel({ ratio: 1.5 }, { type: 'object', properties: { ratio: { type: 'number' } } }) }).value, 3);
  });

  it('compile errors and evaluation errors', () => {
    assert.throws(() => compile('self +', ['self']), CelCompileError);
    assert.throws(() => compile('other == 1', ['self']), /undeclared reference to 'other'/);
    assert.throws(() => run('self.missing == 1', {}), (error: unknown) => error instanceof CelEvaluationError && /no such key: missing/.test(error.message));
  });

  it('refuses to run past the cost limit', () => {
    const program = compile('self.all(x, self.all(y, x == y))', ['self']);
    const sizes = new Map([['self', { size: 2000, element: { size: 1 } }]]);
    assert.throws(() => program.evaluate({ self: toCel(['a']) }, sizes, 1_000_000), (e: unknown) => e instanceof CelEvaluationError && e.costExceeded);
    assert.equal(program.evaluate({ self: toCel(['a']) }, new Map([['self', { size: 1, element: { size: 1 } }]])).value, true);
  });
});
