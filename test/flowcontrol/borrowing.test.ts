/** Seat borrowing between priority levels, against upstream's documented formulas and bootstrap levels. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateSeats, levelBounds, seatTarget, smoothSeatDemand, SEAT_DEMAND_SMOOTHING } from '../../src/flowcontrol/borrowing.js';
import { PriorityAndFairness, type SeatLimits } from '../../src/flowcontrol/priority-and-fairness.js';
import type { InformerFactory } from '../../src/client/informer-factory.js';
import type { UserInfo } from '../../src/auth/authenticate.js';
import type { RequestInfo } from '../../src/server/request-info.js';

test('nominal = ceil(serverCL × shares / all shares); lower = nominal − round(nominal × lendable%); upper = nominal + round(nominal × borrowing%), unbounded without it', () => {
  // Upstream's defaults: 600 seats (400 + 200), shares summing to 245 over the bootstrap levels.
  assert.deepEqual(levelBounds(600, 20, 245, 50), { nominal: 49, lendable: 25, borrowingLimit: 600, lower: 24, upper: 649 });
  assert.deepEqual(levelBounds(600, 100, 245, 90), { nominal: 245, lendable: 221, borrowingLimit: 600, lower: 24, upper: 845 });
  assert.deepEqual(levelBounds(600, 10, 245, 0), { nominal: 25, lendable: 0, borrowingLimit: 600, lower: 25, upper: 625 });
  assert.deepEqual(levelBounds(600, 40, 245, 25, 50), { nominal: 98, lendable: 25, borrowingLimit: 49, lower: 73, upper: 147 });
  assert.equal(levelBounds(600, 30, 245, 33, 0).upper, 74, 'borrowingLimitPercent 0: never above nominal');
  assert.equal(levelBounds(10, 0, 245).nominal, 1, 'at least one seat');
});

test('demand is smoothed: it rises at once to the envelope (mean + stddev) and decays by the smoothing factor', () => {
  assert.equal(smoothSeatDemand(0, { average: 30, stdDev: 10 }), 40);
  const decayed = smoothSeatDemand(40, { average: 0, stdDev: 0 });
  assert.equal(decayed, SEAT_DEMAND_SMOOTHING * 40);
  assert.ok(decayed > 39 && decayed < 40);
  assert.equal(seatTarget(levelBounds(600, 20, 245, 50), 3), 24, 'never below the lower limit');
  assert.equal(seatTarget(levelBounds(600, 20, 245, 50), 300), 300);
});

test('seats go by one fair proportion within each level\'s bounds, summing to the server\'s', () => {
  // Two levels of 50 nominal each, one idle (may lend down to 10), one wanting 200 (may borrow up to 100).
  const { limits, fairProp } = allocateSeats(100, [
    { lower: 10, upper: 100, target: 10 },
    { lower: 50, upper: 100, target: 200 },
  ]);
  assert.deepEqual(limits, [10, 90]);
  assert.ok(fairProp > 0.44 && fairProp < 0.46, String(fairProp));
  // Equal targets share in proportion.
  assert.deepEqual(allocateSeats(100, [{ lower: 1, upper: 100, target: 30 }, { lower: 1, upper: 100, target: 90 }]).limits, [25, 75]);
  // An upper limit caps a borrower; the rest goes to the other.
  assert.deepEqual(allocateSeats(100, [{ lower: 1, upper: 30, target: 1000 }, { lower: 1, upper: 100, target: 10 }]).limits, [30, 70]);
  // Lower limits beyond the total: the lower limits win.
  assert.deepEqual(allocateSeats(10, [{ lower: 8, upper: 20, target: 20 }, { lower: 8, upper: 20, target: 20 }]).limits, [8, 8]);
  // Upper limits short of the total: every level at its upper limit.
  assert.deepEqual(allocateSeats(100, [{ lower: 1, upper: 20, target: 5 }, { lower: 1, upper: 30, target: 5 }]).limits, [20, 30]);
});

/** Informers that never sync: PriorityAndFairness then runs upstream's bootstrap configuration. */
function unsyncedInformers(): InformerFactory {
  const informer = { addEventHandler() {}, start: async () => {}, hasSynced: false, lister: { size: 0, list: () => [] } };
  return { informer: () => informer } as unknown as InformerFactory;
}

const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'] } as UserInfo;
const createConfigMap: RequestInfo = { isResourceRequest: true, path: '/api/v1/namespaces/default/configmaps', verb: 'create', apiPrefix: 'api', group: '', version: 'v1', namespace: 'default', resource: 'configmaps', rest: [] } as RequestInfo;

test('a busy level borrows what idle levels lend, and gives it back once idle; the limits are reported', async () => {
  let reported: Map<string, SeatLimits> | undefined;
  const apf = new PriorityAndFairness(unsyncedInformers(), {
    serverConcurrencyLimit: 600,
    adjustPeriodMs: 0,
    observer: { waiting() {}, executing() {}, dispatched() {}, rejected() {}, seatLimits: (limits) => (reported = limits) },
  });
  const global = () => apf.levelStates().find((level) => level.name === 'global-default')!;
  assert.equal(global().concurrencyLimit, 49);
  assert.equal(reported?.get('global-default')?.nominal, 49);
  // alice (global-default) holds its 49 seats and has 200 more waiting.
  const admissions = await Promise.all(Array.from({ length: 49 }, () => apf.admit(createConfigMap, alice)));
  const waiting = Array.from({ length: 200 }, () => apf.admit(createConfigMap, alice));
  assert.equal(global().waiting, 200);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const limits = apf.adjustLimits();
  const busy = limits.get('global-default')!;
  assert.ok(busy.current > 49, `global-default borrowed: ${busy.current}`);
  assert.ok(busy.current <= busy.upper);
  let sum = 0;
  for (const [name, level] of limits) {
    sum += level.current;
    assert.ok(level.current >= level.lower && level.current <= level.upper, `${name} within its bounds: ${level.current}`);
    // Idle levels get the fair proportion of their target (their lower limit): less than the busy level relative to nominal.
    if (name !== 'global-default') assert.ok(level.current / level.nominal < busy.current / busy.nominal, `${name}: ${level.current}`);
  }
  assert.ok(Math.abs(sum - 600) <= limits.size, `the levels share the server's 600 seats: ${sum}`);
  // The raised limit lets the waiting requests in.
  for (const admission of admissions) if (admission.admitted) admission.release();
  const later = await Promise.all(waiting);
  assert.ok(later.every((admission) => admission.admitted));
  for (const admission of later) if (admission.admitted) admission.release();
  await new Promise((resolve) => setImmediate(resolve));
  // With every level idle, the seats go in proportion to the lower limits (targets): global-default's idle share.
  const idle = new PriorityAndFairness(unsyncedInformers(), { serverConcurrencyLimit: 600, adjustPeriodMs: 0 });
  const idleShare = idle.adjustLimits().get('global-default')!.current;
  assert.equal(idleShare, Math.round((600 * 24) / 258), 'lower limits 13+73+50+25+49+24+24 = 258 seats, global-default 24 of them');
  // Idle from now on: the smoothed demand decays slowly, so the borrowed seats are given back over many periods.
  const next = apf.adjustLimits().get('global-default')!;
  assert.ok(next.current > idleShare, `still borrowing right after: ${next.current}`);
  let current = next.current;
  let periods = 1;
  for (; periods < 400 && current > idleShare; periods++) current = apf.adjustLimits().get('global-default')!.current;
  assert.equal(current, idleShare, `back to its idle share after ${periods} periods`);
  assert.ok(periods > 10, `given back gradually, not at once: ${periods} periods`);
  apf.stop();
});
