import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { humanDuration, listWithMore } from '../../src/registry/common/printing.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('humanDuration (the AGE column)', () => {
  // What kubectl prints for these ages.
  const cases: Array<[number, string]> = [
    [5 * SECOND, '5s'],
    [119 * SECOND, '119s'],
    [2 * MINUTE, '2m'],
    [3 * MINUTE + 20 * SECOND, '3m20s'],
    [10 * MINUTE + 30 * SECOND, '10m'],
    [179 * MINUTE, '179m'],
    [3 * HOUR, '3h'],
    [7 * HOUR + 30 * MINUTE, '7h30m'],
    [8 * HOUR + 30 * MINUTE, '8h'],
    [47 * HOUR, '47h'],
    [2 * DAY + 3 * HOUR, '2d3h'],
    [3 * DAY, '3d'],
    [10 * DAY, '10d'],
    [400 * DAY, '400d'],
    [3 * 365 * DAY, '3y'],
    [3 * 365 * DAY + 10 * DAY, '3y10d'],
    [9 * 365 * DAY, '9y'],
    [-1 * SECOND, '0s'],
    [-5 * SECOND, '<invalid>'],
  ];
  for (const [milliseconds, expected] of cases) {
    it(`${milliseconds}ms -> ${expected}`, () => assert.equal(humanDuration(milliseconds), expected));
  }
});

describe('listWithMore', () => {
  it('shows three items and counts the rest', () => {
    assert.equal(listWithMore(['a', 'b', 'c', 'd', 'e'], 5), 'a,b,c + 2 more...');
    assert.equal(listWithMore(['a', 'b'], 2), 'a,b');
    assert.equal(listWithMore([], 0), '<unset>');
  });
});
