import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PatchError } from '../../../src/api/patch/errors.js';
import { applyMergePatch, mergePatchValue } from '../../../src/api/patch/merge-patch.js';

// RFC 7386 Appendix A, transcribed as data: [original, patch, result].
const appendixA: [unknown, unknown, unknown][] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [['a', 'b'], ['c', 'd'], ['c', 'd']],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe('merge patch: RFC 7386', () => {
  appendixA.forEach(([original, patch, result], index) => {
    it(`appendix A example ${index + 1}`, () => {
      assert.deepEqual(mergePatchValue(original, patch), result);
    });
  });

  it('section 3 example: nested member removed, array replaced, member added', () => {
    const original = {
      title: 'Goodbye!',
      author: { givenName: 'John', familyName: 'Doe' },
      tags: ['example', 'sample'],
      content: 'This will be unchanged',
    };
    const patch = { title: 'Hello!', phoneNumber: '+01-123-456-7890', author: { familyName: null }, tags: ['example'] };
    assert.deepEqual(mergePatchValue(original, patch), {
      title: 'Hello!',
      author: { givenName: 'John' },
      tags: ['example'],
      content: 'This will be unchanged',
      phoneNumber: '+01-123-456-7890',
    });
  });
});

describe('merge patch: on Kubernetes objects', () => {
  const pod = { metadata: { name: 'p', labels: { app: 'a', tier: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };

  it('never changes its inputs and shares no structure with them', () => {
    const before = structuredClone(pod);
    const patch = { metadata: { labels: { tier: null } }, spec: { containers: [{ name: 'c', image: 'j' }] } };
    const result = applyMergePatch(pod, patch) as typeof pod;
    assert.deepEqual(pod, before);
    assert.deepEqual(result, { metadata: { name: 'p', labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'j' }] } });
    result.spec.containers[0].image = 'changed';
    assert.equal(patch.spec.containers[0].image, 'j');
  });

  it('rejects a patch that is not an object with 400, as the apiserver does', () => {
    for (const patch of [null, ['x'], 'text', 3]) {
      assert.throws(
        () => applyMergePatch(pod, patch),
        (error: unknown) => error instanceof PatchError && error.code === 400 && /Invalid JSON Patch/.test(error.message),
      );
    }
  });
});
