/** Cell formatting shared by the table printers, matching kubectl's server-side printers. */
import type { Obj, TableColumn } from '../strategy.js';

/** Upstream's duration.HumanDuration. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

/**
 * While a version's summary is made, the time since a timestamp is left as a placeholder in
 * the cell (ages change, the rest of a row does not); `renderAges` puts the age in when the
 * Table is printed. The placeholder carries a per-process random tag, so no stored text can
 * pass for one.
 */
const DEFERRED_TAG = `\u0000age-${Math.random().toString(36).slice(2, 10)}:`;
let deferringAges = false;

/** Runs `make` with ages left as placeholders. */
export function withDeferredAges<T>(make: () => T): T {
  const was = deferringAges;
  deferringAges = true;
  try {
    return make();
  } finally {
    deferringAges = was;
  }
}

/** The placeholders as JSON.stringify writes them inside a string. */
const ENCODED_TAG = JSON.stringify(DEFERRED_TAG).slice(1, -1);
const ENCODED_END = JSON.stringify('\u0000').slice(1, -1);
/** Whether JSON text (cells made under withDeferredAges) holds an age to print. */
export function hasDeferredAges(json: string): boolean {
  return json.includes(ENCODED_TAG);
}

/** JSON text of cells made under withDeferredAges, with every age as of now. */
export function renderAges(json: string): string {
  let out = '';
  let from = 0;
  for (let at = json.indexOf(ENCODED_TAG); at >= 0; at = json.indexOf(ENCODED_TAG, from)) {
    const start = at + ENCODED_TAG.length;
    const end = json.indexOf(ENCODED_END, start);
    if (end < 0) break;
    // The timestamp as JSON text (it holds no NUL, so the first one ends it).
    const timestamp = JSON.parse(`"${json.slice(start, end)}"`) as string;
    out += json.slice(from, at) + JSON.stringify(age(timestamp)).slice(1, -1);
    from = end + ENCODED_END.length;
  }
  return out + json.slice(from);
}

/** "5m" since a timestamp, or "<unknown>" as upstream when it is missing. */
export function age(timestamp: string | undefined): string {
  if (!timestamp) return '<unknown>';
  const at = Date.parse(timestamp);
  // A timestamp that does not parse prints the same whenever it is printed.
  if (deferringAges && !Number.isNaN(at) && !timestamp.includes('\u0000')) return `${DEFERRED_TAG}${timestamp}\u0000`;
  return humanDuration(Date.now() - at);
}

export const ageColumn: TableColumn = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  cell: (o: Obj) => age(o.metadata.creationTimestamp),
};

export function labelsToString(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return '<none>';
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join(',');
}

/** metav1.LabelSelector printed as upstream's metav1.FormatLabelSelector. */
export function formatLabelSelector(selector: Obj['spec'] | undefined): string {
  if (!selector) return '<none>';
  const parts: string[] = [];
  for (const [k, v] of Object.entries((selector.matchLabels ?? {}) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1))) parts.push(`${k}=${v}`);
  for (const expr of (selector.matchExpressions ?? []) as Array<{ key: string; operator: string; values?: string[] }>) {
    switch (expr.operator) {
      case 'In':
        parts.push(`${expr.key} in (${(expr.values ?? []).join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${expr.key} notin (${(expr.values ?? []).join(',')})`);
        break;
      case 'Exists':
        parts.push(expr.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${expr.key}`);
        break;
    }
  }
  return parts.length === 0 ? '<none>' : parts.join(',');
}

/** The containers' names and images, as the wide columns of workload printers show them. */
export function containerNames(podSpec: Obj['spec'] | undefined): string {
  return ((podSpec?.containers ?? []) as Array<{ name: string }>).map((c) => c.name).join(',');
}

export function containerImages(podSpec: Obj['spec'] | undefined): string {
  return ((podSpec?.containers ?? []) as Array<{ image: string }>).map((c) => c.image).join(',');
}

/** Upstream's "a,b,c + 2 more..." for cells listing at most three items. */
export function listWithMore(items: readonly string[], total: number, maximum = 3, empty = '<unset>'): string {
  if (items.length === 0) return empty;
  const shown = items.slice(0, maximum).join(',');
  return total > maximum ? `${shown} + ${total - maximum} more...` : shown;
}

/** The "Created At" column of kinds whose printers show a timestamp instead of an age (Role, LimitRange). */
export const createdAtColumn: TableColumn = {
  name: 'Created At',
  type: 'date',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  cell: (o: Obj) => o.metadata.creationTimestamp ?? null,
};

/** The wide columns every workload printer ends with. */
export function templateColumns(template: (object: Obj) => Obj | undefined, selector?: (object: Obj) => string): TableColumn[] {
  const columns: TableColumn[] = [
    { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', cell: (o) => containerNames(template(o)?.spec) },
    { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', cell: (o) => containerImages(template(o)?.spec) },
  ];
  if (selector) columns.push({ name: 'Selector', type: 'string', priority: 1, description: 'A label query over pods that should match the replica count.', cell: selector });
  return columns;
}
