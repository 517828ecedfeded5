/**
 * Label and field selectors of a list or watch, compiled against a kind's strategy into one
 * predicate and, where an equality requirement allows, an index hint that narrows the scan.
 * Shared by the REST handler and the in-process client.
 */
import { errors } from '../api/status.js';
import type { KubeObject } from '../api/object.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, type FieldRequirement, type LabelSelector } from '../api/selectors.js';
import type { IndexQuery } from '../storage/secondary-index.js';
import type { KindStrategy } from './strategy.js';
import { unstoredObject, type StoredObject } from '../storage/store.js';
import { fieldValueOf, summaryOf, type ObjectSummary } from './summary.js';

const EMPTY = Buffer.alloc(0);

export interface SelectionRequest {
  labelSelector?: string;
  fieldSelector?: string;
  /** A watch on one object (GET …/pods?watch=1&fieldSelector=metadata.name=x, or …/pods/x?watch). */
  name?: string;
}

export interface Selection {
  /** The whole selector as one predicate over stored versions, reading their summaries (undefined: everything matches). */
  filter?: (stored: StoredObject) => boolean;
  /** The same predicate over an object. */
  matches?: (object: KubeObject) => boolean;
  /** An equality requirement a secondary index can answer, to narrow a list's scan. */
  index?: IndexQuery;
}

export function buildSelection(strategy: KindStrategy, request: SelectionRequest): Selection {
  const labels = request.labelSelector ? parseLabelSelector(request.labelSelector) : [];
  const fields = request.fieldSelector ? parseFieldSelector(request.fieldSelector) : [];
  for (const requirement of fields) {
    if (requirement.field !== 'metadata.name' && requirement.field !== 'metadata.namespace' && !strategy.fieldSelectors?.[requirement.field]) {
      throw errors.badRequest(`field label not supported: ${requirement.field}`);
    }
  }
  const name = request.name;
  if (labels.length === 0 && fields.length === 0 && !name) return {};
  const matchesSummary = (summary: ObjectSummary) =>
    (!name || summary.name === name) && (labels.length === 0 || matchesLabels(labels, summary.labels)) && (fields.length === 0 || matchesFields(fields, (field) => fieldValueOf(strategy, summary, field)));
  return {
    filter: (stored) => matchesSummary(summaryOf(stored, strategy)),
    matches: (object) => matchesSummary(summaryOf(unstoredObject(object, 0, EMPTY), strategy)),
    index: indexFor(strategy, fields, labels),
  };
}

/** The first requirement of the form field=value or label=value, as an index query. */
function indexFor(strategy: KindStrategy, fields: FieldRequirement[], labels: LabelSelector): IndexQuery | undefined {
  for (const requirement of fields) {
    const extract = strategy.fieldSelectors?.[requirement.field];
    // As in matchesFields, an absent field selects as the empty string.
    if (requirement.op === '=' && extract) return { name: `field:${requirement.field}`, extract: (stored) => fieldValueOf(strategy, summaryOf(stored, strategy), requirement.field) ?? '', value: requirement.value };
  }
  for (const requirement of labels) {
    if (requirement.op === 'in' && requirement.values.length === 1) {
      const key = requirement.key;
      return { name: `label:${key}`, extract: (stored) => summaryOf(stored, strategy).labels?.[key], value: requirement.values[0] };
    }
  }
  return undefined;
}
