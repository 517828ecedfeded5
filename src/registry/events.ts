/**
 * Events: core/v1 Event and events.k8s.io/v1 Event. Upstream stores both in one "events"
 * resource and converts between the shapes; each strategy here reads its own shape and both
 * print the same table (upstream prints events.k8s.io events after converting them to core).
 */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy, Obj, TableColumn } from './strategy.js';
import { age } from './common/printing.js';
import { qualifiedNameErrors, tooLong, validateNonNegativeInteger } from './common/validation.js';
import type { Fields } from './common/fields.js';

const EVENT_TYPES = ['Normal', 'Warning'];
const NOTE_LENGTH_LIMIT = 1024;

/** The fields the printer needs, as core/v1 names them. */
interface EventView {
  name: string;
  involvedObject: Fields;
  type?: string;
  reason?: string;
  message?: string;
  source: { component?: string; host?: string };
  reportingController?: string;
  reportingInstance?: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
  series?: Fields;
  action?: string;
}

function coreView(event: Obj): EventView {
  return {
    name: event.metadata.name ?? '',
    involvedObject: event.involvedObject ?? {},
    type: event.type,
    reason: event.reason,
    message: event.message,
    source: event.source ?? {},
    reportingController: event.reportingComponent,
    reportingInstance: event.reportingInstance,
    firstTimestamp: event.firstTimestamp,
    lastTimestamp: event.lastTimestamp,
    eventTime: event.eventTime,
    count: event.count,
    series: event.series,
    action: event.action,
  };
}

function eventsApiView(event: Obj): EventView {
  return {
    name: event.metadata.name ?? '',
    involvedObject: event.regarding ?? {},
    type: event.type,
    reason: event.reason,
    message: event.note,
    source: event.deprecatedSource ?? {},
    reportingController: event.reportingController,
    reportingInstance: event.reportingInstance,
    firstTimestamp: event.deprecatedFirstTimestamp,
    lastTimestamp: event.deprecatedLastTimestamp,
    eventTime: event.eventTime,
    count: event.deprecatedCount,
    series: event.series,
    action: event.action,
  };
}

function firstSeen(e: EventView): string {
  return e.firstTimestamp ? age(e.firstTimestamp) : age(e.eventTime);
}

function lastSeen(e: EventView): string {
  if (isPlainObject(e.series)) return age(e.series.lastObservedTime as string | undefined);
  return e.lastTimestamp ? age(e.lastTimestamp) : firstSeen(e);
}

function count(e: EventView): number {
  if (isPlainObject(e.series)) return Number(e.series.count ?? 0);
  // Singleton events of the new API carry no count.
  return e.count || 1;
}

function target(e: EventView): string {
  const kind = String(e.involvedObject.kind ?? '').toLowerCase();
  return e.involvedObject.name ? `${kind}/${e.involvedObject.name}` : kind;
}

/** "kubelet, node-1": the reporting component, and the host when known. */
function source(e: EventView): string {
  const component = e.source.component || e.reportingController || '';
  const instance = e.source.host || e.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

function eventColumns(view: (event: Obj) => EventView): TableColumn[] {
  return [
    { name: 'Last Seen', type: 'string', description: 'The time at which the most recent occurrence of this event was recorded.', cell: (o) => lastSeen(view(o)) },
    { name: 'Type', type: 'string', description: 'Type of this event (Normal, Warning), new types could be added in the future', cell: (o) => view(o).type ?? '' },
    { name: 'Reason', type: 'string', description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", cell: (o) => view(o).reason ?? '' },
    { name: 'Object', type: 'string', description: 'The object that this event is about.', cell: (o) => target(view(o)) },
    { name: 'Subobject', type: 'string', priority: 1, description: 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', cell: (o) => view(o).involvedObject.fieldPath ?? '' },
    { name: 'Source', type: 'string', priority: 1, description: 'The component reporting this event. Should be a short machine understandable string.', cell: (o) => source(view(o)) },
    { name: 'Message', type: 'string', description: 'A human-readable description of the status of this operation.', cell: (o) => String(view(o).message ?? '').trim() },
    { name: 'First Seen', type: 'string', priority: 1, description: 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', cell: (o) => firstSeen(view(o)) },
    { name: 'Count', type: 'string', priority: 1, description: 'The number of times this event has occurred.', cell: (o) => count(view(o)) },
    { name: 'Name', type: 'string', priority: 1, format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => view(o).name },
  ];
}

/** Where each shape keeps the fields validation names in its messages. */
interface FieldNames {
  regarding: string;
  reportingController: string;
  note: string;
}

/**
 * Upstream's legacyValidateEvent, which every event passes whatever its API: old-style events
 * (no eventTime) live in their object's namespace, or in "default" when the object is
 * cluster-scoped; new-style events must say who reported what.
 */
function validateEvent(event: Obj, view: EventView, names: FieldNames): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = event.metadata.namespace ?? '';
  const objectNamespace = String(view.involvedObject.namespace ?? '');
  const mismatch = () => fieldErrors.invalid(`${names.regarding}.namespace`, objectNamespace, 'does not match event.namespace');
  if (!view.eventTime) {
    if (objectNamespace === '' ? namespace !== '' && namespace !== 'default' : namespace !== objectNamespace) errs.push(mismatch());
    return errs;
  }
  if (objectNamespace === '' && namespace !== 'default' && namespace !== 'kube-system') errs.push(mismatch());
  if (!view.reportingController) errs.push(fieldErrors.required(names.reportingController));
  else for (const p of qualifiedNameErrors(view.reportingController)) errs.push(fieldErrors.invalid(names.reportingController, view.reportingController, p));
  if (!view.reportingInstance) errs.push(fieldErrors.required('reportingInstance'));
  if (!view.action) errs.push(fieldErrors.required('action'));
  if (!view.reason) errs.push(fieldErrors.required('reason'));
  if ((view.message ?? '').length > NOTE_LENGTH_LIMIT) errs.push(tooLong(names.note, NOTE_LENGTH_LIMIT));
  return errs;
}

/** What events.k8s.io adds: a typed, timestamped event without the deprecated core fields. */
function validateStrictEvent(event: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (!event.eventTime) errs.push(fieldErrors.required('eventTime'));
  if (!EVENT_TYPES.includes(event.type)) errs.push(fieldErrors.invalid('type', '', `has invalid value: ${event.type ?? ''}`));
  for (const deprecated of ['deprecatedFirstTimestamp', 'deprecatedLastTimestamp', 'deprecatedCount', 'deprecatedSource']) {
    if (event[deprecated] !== undefined && event[deprecated] !== null) errs.push(fieldErrors.invalid(deprecated, '', 'needs to be unset'));
  }
  return errs;
}

const REFERENCE_FIELDS = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];

/** Field selectors on the object an event is about (`involvedObject.*` in core/v1, `regarding.*` in events.k8s.io). */
function referenceSelectors(reference: 'involvedObject' | 'regarding'): Record<string, (event: Obj) => string> {
  return Object.fromEntries(REFERENCE_FIELDS.map((field) => [`${reference}.${field}`, (event: Obj) => event[reference]?.[field] ?? '']));
}

export const events: KindStrategy = {
  leadingNameColumn: false,
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,

  validate(event) {
    const errs = validateEvent(event, coreView(event), { regarding: 'involvedObject', reportingController: 'reportingComponent', note: 'message' });
    errs.push(...validateNonNegativeInteger(event.count, 'count'));
    return errs;
  },

  columns: eventColumns(coreView),
  fieldSelectors: {
    ...referenceSelectors('involvedObject'),
    reason: (e) => e.reason ?? '',
    reportingComponent: (e) => e.reportingComponent ?? '',
    source: (e) => e.source?.component ?? '',
    type: (e) => e.type ?? '',
  },
};

export const eventsV1: KindStrategy = {
  leadingNameColumn: false,
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,

  validate(event) {
    return [...validateEvent(event, eventsApiView(event), { regarding: 'regarding', reportingController: 'reportingController', note: 'note' }), ...validateStrictEvent(event)];
  },

  columns: eventColumns(eventsApiView),
  fieldSelectors: {
    ...referenceSelectors('regarding'),
    reason: (e) => e.reason ?? '',
    reportingController: (e) => e.reportingController ?? '',
    type: (e) => e.type ?? '',
  },
};
