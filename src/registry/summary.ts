/**
 * The summary of a stored version: what lists, label and field selectors, secondary indexes and
 * Table rows read of it, made once per version from its object and kept beside its bytes (see
 * StoredVersion.summary), so none of them needs the parsed object, which the store does not keep.
 *
 * A summary is a function of the object alone: names, labels, the values of the kind's field
 * selectors, and the Table cells as JSON text. The only cells that change with time are ages
 * (`age()` in common/printing.ts); they are kept as placeholders and printed when the row is.
 */
import type { KubeObject } from '../api/object.js';
import type { StoredObject } from '../storage/store.js';
import { hasDeferredAges, renderAges, withDeferredAges } from './common/printing.js';
import type { KindStrategy, Obj } from './strategy.js';

export interface ObjectSummary {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly labels: Record<string, string> | undefined;
  /** The kind's field selector values, in the order of `fieldSelectorNames(strategy)`; an extractor's error is kept to be thrown where it was. */
  readonly fields: readonly (string | undefined | FieldError)[];
  /** The row's cells as JSON text (what `JSON.stringify(cells)` gives), with ages as placeholders. */
  readonly cells: string;
  /** The cells hold ages to print. */
  readonly aged: boolean;
  /** The leading Name cell threw: a Table of this object fails as before. */
  readonly nameError?: unknown;
}

class FieldError {
  constructor(readonly error: unknown) {}
}

/** One summary maker per strategy: what the version's cache is keyed by. */
const makers = new WeakMap<KindStrategy, Maker>();

interface Maker {
  readonly fieldNames: readonly string[];
  readonly fieldIndex: ReadonlyMap<string, number>;
  make(object: KubeObject): ObjectSummary;
}

function makerFor(strategy: KindStrategy): Maker {
  let maker = makers.get(strategy);
  if (!maker) {
    const fieldNames = Object.keys(strategy.fieldSelectors ?? {});
    const extractors = fieldNames.map((name) => strategy.fieldSelectors![name]);
    maker = {
      fieldNames,
      fieldIndex: new Map(fieldNames.map((name, i) => [name, i])),
      make: (object) => summarize(strategy, extractors, object),
    };
    makers.set(strategy, maker);
  }
  return maker;
}

function summarize(strategy: KindStrategy, extractors: readonly ((object: Obj) => string | undefined)[], object: KubeObject): ObjectSummary {
  const obj = object as Obj;
  const metadata = (obj.metadata ?? {}) as Obj['metadata'];
  const fields = extractors.map((extract) => {
    try {
      return extract(obj);
    } catch (error) {
      return new FieldError(error);
    }
  });
  let nameError: unknown;
  const cells = withDeferredAges(() => {
    const texts: string[] = [];
    if (strategy.leadingNameColumn !== false) {
      try {
        texts.push(cellJson(strategy.nameCell?.(obj) ?? metadata.name ?? ''));
      } catch (error) {
        nameError = error ?? new Error('name cell failed');
        texts.push('""');
      }
    }
    for (const column of strategy.columns) {
      let value: unknown;
      try {
        value = column.cell(obj);
      } catch {
        value = '<unknown>';
      }
      texts.push(cellJson(value ?? '<none>'));
    }
    return texts.join(',');
  });
  const summary: ObjectSummary = { name: metadata.name, namespace: metadata.namespace, labels: metadata.labels, fields, cells, aged: hasDeferredAges(cells) };
  if (nameError !== undefined) (summary as { nameError?: unknown }).nameError = nameError;
  return summary;
}

/** One array element as JSON.stringify writes it. */
function cellJson(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** The summary of a version: kept with a stored version, made afresh for any other (a converted or dry-run object). */
export function summaryOf(stored: StoredObject, strategy: KindStrategy): ObjectSummary {
  const maker = makerFor(strategy);
  const cached = (stored as { summary?: <T>(maker: object, make: (object: KubeObject) => T) => T }).summary;
  return cached ? cached.call(stored, maker, maker.make) as ObjectSummary : maker.make(stored.object);
}

/** A field selector's value for a version, from its summary (metadata.name and metadata.namespace included). */
export function fieldValueOf(strategy: KindStrategy, summary: ObjectSummary, field: string): string | undefined {
  if (field === 'metadata.name') return summary.name;
  if (field === 'metadata.namespace') return summary.namespace ?? '';
  const at = makerFor(strategy).fieldIndex.get(field);
  if (at === undefined) return undefined;
  const value = summary.fields[at];
  if (value instanceof FieldError) throw value.error;
  return value;
}

/** The row's cells JSON (`[…]`), with ages as of now. */
export function cellsJson(summary: ObjectSummary): string {
  if (summary.nameError !== undefined) throw summary.nameError;
  return `[${summary.aged ? renderAges(summary.cells) : summary.cells}]`;
}
