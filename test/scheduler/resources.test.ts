import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podRequests, DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST } from '../../src/scheduler/resources.js';
import { pod } from './fixture.js';

const container = (name: string, cpu: string, memory: string, extra: Record<string, unknown> = {}) => ({ name, image: 'x', resources: { requests: { cpu, memory } }, ...extra });

test('requests: containers add up; an init container larger than the sum wins', () => {
  const p = pod('p', { containers: [container('a', '100m', '100Mi'), container('b', '200m', '100Mi')], initContainers: [container('init', '500m', '50Mi')] });
  const r = podRequests(p);
  assert.equal(r.milliCPU, 500);
  assert.equal(r.memory, 200 * 1024 * 1024);
});

test('requests: sidecars (restartPolicy Always) add to the total and to every later init step; overhead is added', () => {
  const p = pod('p', {
    containers: [container('main', '100m', '100Mi')],
    initContainers: [container('sidecar', '200m', '10Mi', { restartPolicy: 'Always' }), container('init', '250m', '10Mi')],
    overhead: { cpu: '50m', memory: '1Mi' },
  });
  const r = podRequests(p);
  // main + sidecar = 300m; the init step after the sidecar = 250m + 200m = 450m, which wins; + 50m overhead.
  assert.equal(r.milliCPU, 500);
  assert.equal(r.memory, (110 + 1) * 1024 * 1024);
});

test('requests: a limit without a request counts as the request; extended resources by name', () => {
  const p = pod('p', { containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1', 'example.com/gpu': '2' } } }] });
  const r = podRequests(p);
  assert.equal(r.milliCPU, 1000);
  assert.equal(r.scalar.get('example.com/gpu'), 2);
});

test('non-zero requests: requestless containers count 100m and 200Mi for scoring', () => {
  const p = pod('p', { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x', resources: { requests: { cpu: '1' } } }] });
  const r = podRequests(p, true);
  assert.equal(r.milliCPU, DEFAULT_MILLI_CPU_REQUEST + 1000);
  assert.equal(r.memory, 2 * DEFAULT_MEMORY_REQUEST);
});
