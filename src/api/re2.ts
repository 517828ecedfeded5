/**
 * Regular expressions written by API users (CRD `pattern`, CEL `matches`) run on RE2, as upstream's
 * Go regexp does: linear time, so no pattern can stall the process (JavaScript's backtracking
 * RegExp can take minutes on `(a+)+$`).
 */
import { RE2JS } from '@bufbuild/re2';

const compiled = new Map<string, RE2JS>();
const MAX_CACHED = 1000;

/** Compiles (once) and returns the pattern; throws on a syntax error. */
export function re2(pattern: string): RE2JS {
  let regexp = compiled.get(pattern);
  if (!regexp) {
    regexp = RE2JS.compile(pattern);
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!);
    compiled.set(pattern, regexp);
  }
  return regexp;
}

/** Whether `value` contains a match of `pattern` (unanchored, as Go's MatchString). */
export function re2Test(pattern: string, value: string): boolean {
  return re2(pattern).test(value);
}
