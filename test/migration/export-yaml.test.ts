import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { toKubectlYaml } from '../../src/migration/export.js';

describe('export YAML', () => {
  it('keeps strings that YAML 1.1 reads as booleans, numbers or nulls as strings for kubectl', () => {
    const annotations = { a: 'yes', b: 'no', c: 'on', d: 'off', e: 'y', f: 'N', g: '0777', h: '1_000', i: '~', j: '12:30:00', k: 'plain' };
    const text = toKubectlYaml({ metadata: { annotations } });
    // kubectl decodes with YAML 1.1 rules: every value must still be the string it was.
    assert.deepEqual(parse(text, { version: '1.1' }).metadata.annotations, annotations);
    assert.deepEqual(parse(text).metadata.annotations, annotations);
  });
});
