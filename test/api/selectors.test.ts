import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../src/api/selectors.js';
import { ApiError } from '../../src/api/status.js';

const labels = { app: 'web', tier: 'frontend', version: '3' };

test('equality-based label selectors', () => {
  assert.ok(matchesLabels(parseLabelSelector('app=web'), labels));
  assert.ok(matchesLabels(parseLabelSelector('app==web,tier=frontend'), labels));
  assert.ok(!matchesLabels(parseLabelSelector('app!=web'), labels));
  assert.ok(matchesLabels(parseLabelSelector('missing!=x'), labels));
});

test('set-based label selectors', () => {
  assert.ok(matchesLabels(parseLabelSelector('tier in (frontend, backend)'), labels));
  assert.ok(!matchesLabels(parseLabelSelector('tier notin (frontend)'), labels));
  assert.ok(matchesLabels(parseLabelSelector('app,!missing'), labels));
  assert.ok(!matchesLabels(parseLabelSelector('!app'), labels));
  assert.ok(matchesLabels(parseLabelSelector('version>2'), labels));
  assert.ok(!matchesLabels(parseLabelSelector('version<3'), labels));
  assert.ok(matchesLabels(parseLabelSelector(''), labels));
});

test('malformed selectors are 400s', () => {
  for (const bad of ['app=we b', 'in (x)', 'app in x', '=x', 'a=b=c']) {
    assert.throws(() => parseLabelSelector(bad), (e: unknown) => e instanceof ApiError && e.code === 400, bad);
  }
});

test('field selectors with escapes', () => {
  const reqs = parseFieldSelector('metadata.name=a\\,b,status.phase!=Running');
  assert.deepEqual(reqs, [
    { field: 'metadata.name', op: '=', value: 'a,b' },
    { field: 'status.phase', op: '!=', value: 'Running' },
  ]);
  const fields: Record<string, string> = { 'metadata.name': 'a,b', 'status.phase': 'Pending' };
  assert.ok(matchesFields(reqs, (f) => fields[f]));
  assert.ok(!matchesFields(parseFieldSelector('status.phase=Running'), (f) => fields[f]));
  assert.throws(() => parseFieldSelector('nonsense'), (e: unknown) => e instanceof ApiError && e.code === 400);
});
