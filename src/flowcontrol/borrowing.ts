/**
 * Seat borrowing between priority levels (KEP-1040's borrowing extension, as upstream's APF
 * controller does it every 10 s). Each Limited level has a nominal limit from its
 * nominalConcurrencyShares; `lendablePercent` of it may be lent to busier levels (the lower limit
 * is nominal − lendable) and it may borrow up to `borrowingLimitPercent` of its nominal (no limit
 * when unset) on top (the upper limit). From each level's seat demand over the last period
 * (executing + waiting seats: mean + standard deviation, smoothed so that a level gives seats back
 * slowly) comes a target; the server's seats are then shared by one fair proportion p: each level
 * gets max(lower, min(upper, p × target)), with p chosen so that the allocations sum to the
 * server's seats (as near as the bounds allow).
 */

/** Upstream's smoothing: a level's smoothed demand decays towards its envelope by this factor per period. */
export const SEAT_DEMAND_SMOOTHING = 0.977;
/** How often upstream recomputes the limits. */
export const ADJUST_PERIOD_MS = 10_000;

export interface LevelBounds {
  nominal: number;
  lendable: number;
  /** Seats it may borrow on top of nominal (the server's seats when borrowingLimitPercent is unset). */
  borrowingLimit: number;
  lower: number;
  upper: number;
}

/** A Limited level's nominal, lendable and borrowing limits, and the bounds of its current limit. */
export function levelBounds(serverConcurrencyLimit: number, shares: number, totalShares: number, lendablePercent = 0, borrowingLimitPercent?: number): LevelBounds {
  const nominal = Math.max(1, Math.ceil((serverConcurrencyLimit * shares) / Math.max(1, totalShares)));
  const lendable = Math.round((nominal * lendablePercent) / 100);
  const borrowingLimit = borrowingLimitPercent === undefined || borrowingLimitPercent === null ? serverConcurrencyLimit : Math.round((nominal * borrowingLimitPercent) / 100);
  return { nominal, lendable, borrowingLimit, lower: nominal - lendable, upper: nominal + borrowingLimit };
}

/** The demand envelope (mean + one standard deviation), smoothed against the previous value. */
export function smoothSeatDemand(previous: number, stats: { average: number; stdDev: number }): number {
  const envelope = stats.average + stats.stdDev;
  return Math.max(envelope, SEAT_DEMAND_SMOOTHING * previous + (1 - SEAT_DEMAND_SMOOTHING) * envelope);
}

/** A level's target: its smoothed demand, but never below its lower limit. */
export function seatTarget(bounds: LevelBounds, smoothedDemand: number): number {
  return Math.max(bounds.lower, smoothedDemand);
}

export interface Allocation {
  /** Current limits, in the order of the items. */
  limits: number[];
  /** The fair proportion p (upstream's apiserver_flowcontrol_seat_fair_frac). */
  fairProp: number;
}

/**
 * Shares `total` seats: each item gets max(lower, min(upper, p × target)), with p the smallest that
 * uses all seats (found by bisection; the sum only grows with p). If even the lower limits exceed
 * the total, or the upper limits do not reach it, the bounds win. Limits are rounded to whole seats.
 */
export function allocateSeats(total: number, items: Array<{ lower: number; upper: number; target: number }>): Allocation {
  const at = (p: number) => items.map((item) => Math.max(item.lower, Math.min(item.upper, p * item.target)));
  const sum = (p: number) => at(p).reduce((a, b) => a + b, 0);
  let fairProp: number;
  if (sum(0) >= total) fairProp = 0;
  else {
    let low = 0;
    let high = 1;
    for (let i = 0; i < 64 && sum(high) < total; i++) high *= 2;
    if (sum(high) < total) fairProp = high;
    else {
      for (let i = 0; i < 64; i++) {
        const mid = (low + high) / 2;
        if (sum(mid) < total) low = mid;
        else high = mid;
      }
      fairProp = high;
    }
  }
  return { limits: at(fairProp).map((limit) => Math.max(1, Math.round(limit))), fairProp };
}
