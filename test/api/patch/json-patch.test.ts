import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PatchError } from '../../../src/api/patch/errors.js';
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from '../../../src/api/patch/json-patch.js';

/** Asserts a PatchError with this HTTP code whose message matches. */
function assertPatchError(run: () => unknown, code: number, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof PatchError, `expected a PatchError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

// RFC 6902 Appendix A, transcribed as data. A.13 (duplicate "op" members) concerns JSON text
// parsing and cannot be expressed once the patch is a parsed value.
const appendixA: { name: string; doc: unknown; patch: unknown[]; result?: unknown; fails?: boolean }[] = [
  {
    name: 'A.1 adding an object member',
    doc: { foo: 'bar' },
    patch: [{ op: 'add', path: '/baz', value: 'qux' }],
    result: { baz: 'qux', foo: 'bar' },
  },
  {
    name: 'A.2 adding an array element',
    doc: { foo: ['bar', 'baz'] },
    patch: [{ op: 'add', path: '/foo/1', value: 'qux' }],
    result: { foo: ['bar', 'qux', 'baz'] },
  },
  {
    name: 'A.3 removing an object member',
    doc: { baz: 'qux', foo: 'bar' },
    patch: [{ op: 'remove', path: '/baz' }],
    result: { foo: 'bar' },
  },
  {
    name: 'A.4 removing an array element',
    doc: { foo: ['bar', 'qux', 'baz'] },
    patch: [{ op: 'remove', path: '/foo/1' }],
    result: { foo: ['bar', 'baz'] },
  },
  {
    name: 'A.5 replacing a value',
    doc: { baz: 'qux', foo: 'bar' },
    patch: [{ op: 'replace', path: '/baz', value: 'boo' }],
    result: { baz: 'boo', foo: 'bar' },
  },
  {
    name: 'A.6 moving a value',
    doc: { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
    patch: [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
    result: { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
  },
  {
    name: 'A.7 moving an array element',
    doc: { foo: ['all', 'grass', 'cows', 'eat'] },
    patch: [{ op: 'move', from: '/foo/1', path: '/foo/3' }],
    result: { foo: ['all', 'cows', 'eat', 'grass'] },
  },
  {
    name: 'A.8 testing a value: success',
    doc: { baz: 'qux', foo: ['a', 2, 'c'] },
    patch: [
      { op: 'test', path: '/baz', value: 'qux' },
      { op: 'test', path: '/foo/1', value: 2 },
    ],
    result: { baz: 'qux', foo: ['a', 2, 'c'] },
  },
  {
    name: 'A.9 testing a value: error',
    doc: { baz: 'qux' },
    patch: [{ op: 'test', path: '/baz', value: 'bar' }],
    fails: true,
  },
  {
    name: 'A.10 adding a nested member object',
    doc: { foo: 'bar' },
    patch: [{ op: 'add', path: '/child', value: { grandchild: {} } }],
    result: { foo: 'bar', child: { grandchild: {} } },
  },
  {
    name: 'A.11 ignoring unrecognized elements',
    doc: { foo: 'bar' },
    patch: [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }],
    result: { foo: 'bar', baz: 'qux' },
  },
  {
    name: 'A.12 adding to a nonexistent target',
    doc: { foo: 'bar' },
    patch: [{ op: 'add', path: '/baz/bat', value: 'qux' }],
    fails: true,
  },
  {
    name: 'A.14 ~ escape ordering',
    doc: { '/': 9, '~1': 10 },
    patch: [{ op: 'test', path: '/~01', value: 10 }],
    result: { '/': 9, '~1': 10 },
  },
  {
    name: 'A.15 comparing strings and numbers',
    doc: { '/': 9, '~1': 10 },
    patch: [{ op: 'test', path: '/~01', value: '10' }],
    fails: true,
  },
  {
    name: 'A.16 adding an array value',
    doc: { foo: ['bar'] },
    patch: [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }],
    result: { foo: ['bar', ['abc', 'def']] },
  },
];

describe('JSON patch: RFC 6902 appendix A', () => {
  for (const example of appendixA) {
    it(example.name, () => {
      if (example.fails) {
        assertPatchError(() => applyJsonPatch(example.doc, example.patch), 422, /json patch operation 0/);
      } else {
        assert.deepEqual(applyJsonPatch(example.doc, example.patch), example.result);
      }
    });
  }
});

describe('JSON patch: failures', () => {
  const deployment = { metadata: { name: 'web', labels: { app: 'web' } }, spec: { replicas: 1, ports: [80] } };

  it('names the failing operation and uses upstream wording for a missing key', () => {
    assertPatchError(
      () =>
        applyJsonPatch(deployment, [
          { op: 'add', path: '/metadata/labels/tier', value: 'front' },
          { op: 'replace', path: '/spec/paused', value: true },
        ]),
      422,
      /^replace operation does not apply: doc is missing key: \/spec\/paused: missing value \(json patch operation 1\)$/,
    );
  });

  it('is all-or-nothing and never changes its input', () => {
    const before = structuredClone(deployment);
    assert.throws(() =>
      applyJsonPatch(deployment, [
        { op: 'replace', path: '/spec/replicas', value: 5 },
        { op: 'test', path: '/metadata/name', value: 'other' },
      ]),
    );
    assert.deepEqual(deployment, before);
    const patched = applyJsonPatch(deployment, [{ op: 'replace', path: '/spec/replicas', value: 5 }]);
    assert.deepEqual(deployment, before);
    assert.equal((patched as typeof deployment).spec.replicas, 5);
  });

  it('reports a failed test with upstream wording', () => {
    assertPatchError(
      () => applyJsonPatch(deployment, [{ op: 'test', path: '/spec/replicas', value: 2 }]),
      422,
      /testing value \/spec\/replicas failed: test failed/,
    );
  });

  it('reports a missing parent path, and removing a missing member', () => {
    assertPatchError(
      () => applyJsonPatch(deployment, [{ op: 'add', path: '/status/phase', value: 'Running' }]),
      422,
      /add operation does not apply: doc is missing path: "\/status\/phase"/,
    );
    assertPatchError(
      () => applyJsonPatch(deployment, [{ op: 'remove', path: '/metadata/annotations' }]),
      422,
      /error in remove for path: '\/metadata\/annotations': Unable to remove nonexistent key: annotations/,
    );
  });

  it('rejects array indices that are out of range or not canonical', () => {
    assertPatchError(
      () => applyJsonPatch(deployment, [{ op: 'add', path: '/spec/ports/2', value: 443 }]),
      422,
      /Unable to access invalid index: 2/,
    );
    assertPatchError(() => applyJsonPatch(deployment, [{ op: 'remove', path: '/spec/ports/00' }]), 422, /invalid index/);
    assertPatchError(() => applyJsonPatch(deployment, [{ op: 'remove', path: '/spec/ports/-1' }]), 422, /invalid index/);
  });

  it('refuses to move a value into its own child', () => {
    assertPatchError(
      () => applyJsonPatch(deployment, [{ op: 'move', from: '/metadata', path: '/metadata/inner' }]),
      422,
      /cannot be moved into its own child/,
    );
  });

  it('copies deeply, so later operations do not alias the source', () => {
    const result = applyJsonPatch(deployment, [
      { op: 'copy', from: '/metadata/labels', path: '/spec/selector' },
      { op: 'add', path: '/spec/selector/extra', value: 'x' },
    ]) as { metadata: { labels: object }; spec: { selector: object } };
    assert.deepEqual(result.metadata.labels, { app: 'web' });
    assert.deepEqual(result.spec.selector, { app: 'web', extra: 'x' });
  });

  it('replaces the whole document at the empty pointer', () => {
    assert.deepEqual(applyJsonPatch(deployment, [{ op: 'replace', path: '', value: { kind: 'X' } }]), { kind: 'X' });
  });

  it('treats an absent member as null in a test, as upstream does', () => {
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/b', value: null }]), { a: 1 });
  });

  it('rejects malformed patch documents with 400 and malformed operations with 422', () => {
    assertPatchError(() => applyJsonPatch(deployment, { op: 'add' }), 400, /must be an array of operations, got object/);
    assertPatchError(() => applyJsonPatch(deployment, ['add']), 400, /operation 0 must be an object/);
    assertPatchError(() => applyJsonPatch(deployment, [{ op: 'upsert', path: '/a' }]), 422, /Unexpected kind: upsert/);
    assertPatchError(() => applyJsonPatch(deployment, [{ op: 'add', path: '/a' }]), 422, /missing value field/);
    assertPatchError(() => applyJsonPatch(deployment, [{ op: 'move', path: '/a' }]), 422, /failed to decode from/);
    assertPatchError(
      () => applyJsonPatch(deployment, [{ op: 'add', path: 'spec', value: 1 }]),
      422,
      /invalid JSON pointer "spec"/,
    );
    assertPatchError(() => applyJsonPatch(deployment, [{ op: 'test', path: '/~2', value: 1 }]), 422, /"~" must be followed/);
  });

  it('answers an absurdly deep document with 422 instead of exhausting the stack', () => {
    const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000));
    assertPatchError(() => applyJsonPatch({}, [{ op: 'add', path: '/a', value: deep }]), 422, /nested too deeply/);
  });

  it('limits the number of operations like upstream (413)', () => {
    const tooMany = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '', value: {} }));
    assertPatchError(() => applyJsonPatch({}, tooMany), 413, /maximum operations in a JSON patch is 10000, got 10001/);
  });

  it('stores "__proto__" as a plain member instead of changing the prototype', () => {
    const result = applyJsonPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as Record<
      string,
      unknown
    >;
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.deepEqual(Object.keys(result), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
