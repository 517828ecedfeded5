/**
 * spec.trafficDistribution as upstream's trafficdist heuristic writes it: PreferClose hints each
 * ready endpoint for its own zone, leaves not-ready ones alone and drops a hint from one without a
 * zone; any other value removes every hint; an unchanged slice is rewritten only when a hint is wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hintTarget as target } from './hint-target.js';
import { applyTrafficDistribution } from '../../src/controllers/traffic-distribution.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

const endpoint = (zone: string | undefined, ready = true, hintZone?: string): Fields => ({
  addresses: ['10.0.0.1'],
  conditions: { ready },
  ...(zone ? { zone } : {}),
  ...(hintZone ? { hints: { forZones: [{ name: hintZone }] } } : {}),
});


describe('trafficDistribution', () => {
  it('PreferClose hints every ready endpoint with a zone for that zone only', () => {
    const lists = [[endpoint('a'), endpoint('b'), endpoint('a', true, 'b')]];
    applyTrafficDistribution(target(lists), 'PreferClose');
    assert.deepEqual(lists[0].map((e) => e.hints), [{ forZones: [{ name: 'a' }] }, { forZones: [{ name: 'b' }] }, { forZones: [{ name: 'a' }] }]);
  });

  it('PreferClose leaves not-ready endpoints as they are and unhints a ready one without a zone', () => {
    const notReady = endpoint('a', false, 'c');
    const lists = [[notReady, endpoint(undefined, true, 'a')]];
    applyTrafficDistribution(target(lists), 'PreferClose');
    assert.equal(lists[0][0], notReady);
    assert.equal(lists[0][1].hints, undefined);
  });

  it('rewrites an unchanged slice only when one of its ready endpoints has a missing or wrong hint', () => {
    const good = [endpoint('a', true, 'a'), endpoint('b', false)];
    const wrong = [endpoint('a', true, 'b')];
    const missing = [endpoint('b')];
    const t = target([], [good, wrong, missing]);
    applyTrafficDistribution(t, 'PreferClose');
    assert.deepEqual(t.rewritten, [1, 2]);
    assert.deepEqual(t.written.map((list) => list.map((e) => e.hints?.forZones[0].name)), [['a'], ['b']]);
  });

  it('without PreferClose every hint is removed, from unchanged slices too', () => {
    for (const value of [undefined, 'Other']) {
      const lists = [[endpoint('a', true, 'a')]];
      const t = target(lists, [[endpoint('b', true, 'b')], [endpoint('c')]]);
      applyTrafficDistribution(t, value);
      assert.deepEqual(t.rewritten, [0], 'only the hinted unchanged slice is rewritten');
      assert.ok(t.written.flat().every((e) => e.hints === undefined));
    }
  });
});
