/**
 * Exact resource quantities for admission arithmetic (quota sums, LimitRange comparisons): a
 * value in nano-units as a BigInt and the format it was written in, printed canonically as
 * upstream's resource.Quantity prints ("500m", "2", "1Gi", "1536Mi").
 */
export type QuantityFormat = 'DecimalSI' | 'BinarySI';

export interface Quantity {
  nanos: bigint;
  format: QuantityFormat;
}

const NANO = 1_000_000_000n;
const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DECIMAL_EXPONENT: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

export const ZERO: Quantity = { nanos: 0n, format: 'DecimalSI' };

/** Parses a quantity string (or number); undefined when it is not one. Precision below 1n rounds up, as upstream. */
export function parse(value: unknown): Quantity | undefined {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const match = PATTERN.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return undefined;
  const [, sign, whole, fraction = '', suffix = ''] = match;
  const digits = BigInt(`${whole}${fraction}` || '0');
  // value = digits × 10^-fraction.length × multiplier, in nanos (× 10^9)
  let numerator = digits;
  let denominator = 10n ** BigInt(fraction.length);
  let format: QuantityFormat = 'DecimalSI';
  if (suffix in BINARY) {
    numerator *= BINARY[suffix] * NANO;
    format = 'BinarySI';
  } else {
    const exponent = suffix in DECIMAL_EXPONENT ? DECIMAL_EXPONENT[suffix] : Number(suffix.slice(1));
    const scale = exponent + 9;
    if (scale >= 0) numerator *= 10n ** BigInt(scale);
    else denominator *= 10n ** BigInt(-scale);
  }
  let nanos = numerator / denominator;
  if (nanos * denominator !== numerator) nanos += 1n;
  return { nanos: sign === '-' ? -nanos : nanos, format };
}

/** Parses, treating anything unparsable as zero (validation has refused it before admission). */
export function quantity(value: unknown): Quantity {
  return parse(value) ?? ZERO;
}

export function add(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos + b.nanos, format: a.nanos === 0n && b.nanos !== 0n ? b.format : a.format };
}

export function subtract(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos - b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

export function multiply(a: Quantity, factor: bigint): Quantity {
  return { nanos: a.nanos * factor, format: a.format };
}

export function compare(a: Quantity, b: Quantity): number {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

export function max(a: Quantity, b: Quantity): Quantity {
  return compare(a, b) >= 0 ? a : b;
}

/** The quantity in whole units, rounded up (for counts). */
export function ceilUnits(q: Quantity): bigint {
  return q.nanos >= 0n ? (q.nanos + NANO - 1n) / NANO : q.nanos / NANO;
}

/** Canonical text, as upstream's Quantity.String(). */
export function format(q: Quantity): string {
  const negative = q.nanos < 0n;
  const abs = negative ? -q.nanos : q.nanos;
  const sign = negative ? '-' : '';
  if (abs === 0n) return '0';
  if (q.format === 'BinarySI' && abs % NANO === 0n) {
    let units = abs / NANO;
    if (units >= 1024n) {
      const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
      let index = 0;
      while (index < suffixes.length - 1 && units % 1024n === 0n) {
        units /= 1024n;
        index++;
      }
      if (index > 0 || units < 1024n) return `${sign}${units}${suffixes[index]}`;
    }
  }
  // Decimal: the largest power of 1000 that keeps the number whole.
  const steps: Array<[bigint, string]> = [
    [NANO * 10n ** 18n, 'E'], [NANO * 10n ** 15n, 'P'], [NANO * 10n ** 12n, 'T'], [NANO * 10n ** 9n, 'G'], [NANO * 10n ** 6n, 'M'], [NANO * 1000n, 'k'],
    [NANO, ''], [1_000_000n, 'm'], [1000n, 'u'], [1n, 'n'],
  ];
  for (const [unit, suffix] of steps) if (abs % unit === 0n) return `${sign}${abs / unit}${suffix}`;
  return `${sign}${abs}n`;
}
