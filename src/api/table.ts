/** Server-side printing: meta.k8s.io/v1 Table responses, as kubectl get asks for them. */
import type { KindStrategy, Obj, TableColumn } from '../registry/strategy.js';
import type { StoredObject } from '../storage/store.js';
import { cellsJson, summaryOf } from '../registry/summary.js';

const NAME_COLUMN = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function columnDefinition(column: TableColumn) {
  return { name: column.name, type: column.type, format: column.format ?? '', description: column.description ?? '', priority: column.priority ?? 0 };
}

/** Column definitions serialized once per kind. */
const definitionsCache = new WeakMap<KindStrategy, string>();

function definitionsJson(strategy: KindStrategy): string {
  let json = definitionsCache.get(strategy);
  if (!json) {
    const columns = strategy.columns.map(columnDefinition);
    json = JSON.stringify(strategy.leadingNameColumn === false ? columns : [NAME_COLUMN, ...columns]);
    definitionsCache.set(strategy, json);
  }
  return json;
}

function rowJson(strategy: KindStrategy, stored: StoredObject, include: IncludeObject): string {
  // The cells come from the version's summary, made once (ages printed now): no parsed object.
  let row = `{"cells":${cellsJson(summaryOf(stored, strategy))}`;
  if (include === 'Object') row += `,"object":${stored.json.toString('utf8')}`;
  else if (include === 'Metadata') row += `,"object":${cachedPartialObjectMetadata(stored)}`;
  return row + '}';
}

/** Other versions (converted, dry-run) never change either, so their metadata is serialized once for every table it appears in. */
const partialMetadataCache = new WeakMap<StoredObject, string>();

export function cachedPartialObjectMetadata(stored: StoredObject): string {
  // A stored version cuts it from its own bytes: nothing more is kept per version.
  const fromBytes = (stored as { metadataWithoutManagedFields?: () => string | undefined }).metadataWithoutManagedFields?.();
  if (fromBytes !== undefined) return `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":${fromBytes}}`;
  let json = partialMetadataCache.get(stored);
  if (json === undefined) {
    json = partialObjectMetadata(stored.object as Obj);
    partialMetadataCache.set(stored, json);
  }
  return json;
}

export function partialObjectMetadata(object: Obj): string {
  const { managedFields: _managed, ...metadata } = object.metadata;
  return `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":${JSON.stringify(metadata)}}`;
}

const PARTIAL_METADATA_START = Buffer.from('{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":');
const CLOSE = Buffer.from('}');

/** cachedPartialObjectMetadata as pieces of bytes (views of the stored bytes where it can), appended to `out`. */
export function partialObjectMetadataPieces(stored: StoredObject, out: Buffer[]): void {
  const pieces = (stored as { metadataWithoutManagedFieldsPieces?: () => Buffer[] | undefined }).metadataWithoutManagedFieldsPieces?.();
  if (pieces === undefined) {
    out.push(Buffer.from(cachedPartialObjectMetadata(stored)));
    return;
  }
  out.push(PARTIAL_METADATA_START, ...pieces, CLOSE);
}

export interface TableListMeta {
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}


/**
 * tableJson as bytes, assembled from pieces: each row's cells from its summary, its object the
 * stored bytes themselves or views of them (Metadata), no text decoded or encoded again.
 */
export function tableBuffer(strategy: KindStrategy, items: readonly StoredObject[], meta: TableListMeta, include: IncludeObject, withHeaders = true): Buffer {
  const columns = withHeaders ? definitionsJson(strategy) : '[]';
  const pieces: Buffer[] = [Buffer.from(`{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":${JSON.stringify(meta)},"columnDefinitions":${columns},"rows":[`)];
  let cells = '';
  const flushCells = () => {
    if (cells) pieces.push(Buffer.from(cells));
    cells = '';
  };
  for (let i = 0; i < items.length; i++) {
    const stored = items[i];
    // Runs of text (cells, separators) are encoded together; object bytes go in as they are.
    cells += `${i > 0 ? ',' : ''}{"cells":${cellsJson(summaryOf(stored, strategy))}`;
    if (include === 'None') {
      cells += '}';
      continue;
    }
    cells += ',"object":';
    flushCells();
    if (include === 'Object') pieces.push(...stored.jsonPieces());
    else partialObjectMetadataPieces(stored, pieces);
    cells = '}';
  }
  cells += ']}';
  flushCells();
  return Buffer.concat(pieces);
}

export function tableJson(strategy: KindStrategy, items: readonly StoredObject[], meta: TableListMeta, include: IncludeObject, withHeaders = true): string {
  const rows = items.map((item) => rowJson(strategy, item, include)).join(',');
  const columns = withHeaders ? definitionsJson(strategy) : '[]';
  return `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":${JSON.stringify(meta)},"columnDefinitions":${columns},"rows":[${rows}]}`;
}
