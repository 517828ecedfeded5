/**
 * Query parameters read as upstream's parameter codec reads them into ListOptions, PatchOptions,
 * DeleteOptions …: a boolean is false only when absent, `0` or `false` in any case, and true for
 * anything else (so `true`, `True`, `TRUE`, `1`, `t` — what Go's strconv.ParseBool calls true — and
 * Python's `str(True)` all are). One place, for every boolean parameter.
 */
export function queryBool(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null) return false;
  return !(value === '0' || value.toLowerCase() === 'false');
}

