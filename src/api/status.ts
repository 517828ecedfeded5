/**
 * Kubernetes `Status` errors. Every failure a client can cause becomes an ApiError, which the
 * server turns into a `Status` body with the matching HTTP code.
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    const status: Record<string, unknown> = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

/** Identifies the object an error is about, in the form upstream uses ("pods", "deployments.apps"). */
export interface ResourceRef {
  group: string;
  resource: string;
  kind?: string;
}

function qualified(ref: ResourceRef): string {
  return ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
}

function detailsOf(ref: ResourceRef, name: string): StatusDetails {
  const details: StatusDetails = { name, kind: ref.resource };
  if (ref.group) details.group = ref.group;
  return details;
}

export const errors = {
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  unauthorized: (message = 'Unauthorized') => new ApiError(401, 'Unauthorized', message),
  // Upstream's constructors give these a details object even when it names nothing (`{}`), and
  // clients dereference it (kubectl debug reads a 404's details.name); so do we.
  forbidden: (message: string, details: StatusDetails = {}) => new ApiError(403, 'Forbidden', message, details),
  /** Upstream's NewForbidden: `<resource> "<name>" is forbidden: <why>`, naming the object in details. */
  forbiddenObject: (ref: ResourceRef, name: string, why: string, causes?: StatusCause[]) =>
    new ApiError(403, 'Forbidden', `${qualified(ref)} "${name}" is forbidden: ${why}`, { ...detailsOf(ref, name), ...(causes ? { causes } : {}) }),
  notFound: (ref: ResourceRef, name: string) =>
    new ApiError(404, 'NotFound', `${qualified(ref)} "${name}" not found`, detailsOf(ref, name)),
  pathNotFound: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}),
  methodNotAllowed: (verb: string, what: string) =>
    new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${verb} ${what})`, {}),
  notAcceptable: (message: string) => new ApiError(406, 'NotAcceptable', message),
  alreadyExists: (ref: ResourceRef, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualified(ref)} "${name}" already exists`, detailsOf(ref, name)),
  conflict: (ref: ResourceRef, name: string, why: string, causes?: StatusCause[]) =>
    new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(ref)} "${name}": ${why}`, {
      ...detailsOf(ref, name),
      ...(causes ? { causes } : {}),
    }),
  gone: (message: string) => new ApiError(410, 'Expired', message),
  tooLarge: (message: string) => new ApiError(413, 'RequestEntityTooLarge', message),
  unsupportedMediaType: (contentType: string) =>
    new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${JSON.stringify(contentType)})`),
  invalid: (kind: string, group: string, name: string, causes: FieldError[]) => invalidError(kind, group, name, causes),
  tooManyRequests: (message: string, retryAfterSeconds = 1) =>
    new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds }),
  internal: (message: string) => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  timeout: (message: string, details: StatusDetails = {}) => new ApiError(504, 'Timeout', message, details),
};

/** A validation failure at one field path, in upstream's vocabulary (field.ErrorType). */
export interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTooMany' | 'FieldValueTypeInvalid';
  field: string;
  /** Human text after the field path, e.g. `Required value` or `Invalid value: "x": must be ...`. */
  detail: string;
}

export const fieldErrors = {
  required: (field: string, why?: string): FieldError => ({ type: 'FieldValueRequired', field, detail: why ? `Required value: ${why}` : 'Required value' }),
  invalid: (field: string, value: unknown, why: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    detail: `Invalid value: ${formatValue(value)}: ${why}`,
  }),
  notSupported: (field: string, value: unknown, supported: readonly string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    detail: `Unsupported value: ${formatValue(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, detail: `Duplicate value: ${formatValue(value)}` }),
  forbidden: (field: string, why: string): FieldError => ({ type: 'FieldValueForbidden', field, detail: `Forbidden: ${why}` }),
  typeInvalid: (field: string, value: unknown, why: string): FieldError => ({ type: 'FieldValueTypeInvalid', field, detail: `Invalid value: ${formatValue(value)}: ${why}` }),
};

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function invalidError(kind: string, group: string, name: string, causes: FieldError[]): ApiError {
  const summary = causes.map((c) => `${c.field}: ${c.detail}`);
  const list = summary.length === 1 ? summary[0] : `[${summary.join(', ')}]`;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  // Empty name, group or kind are left out, as Go's omitempty leaves them.
  return new ApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${list}`, {
    name: name || undefined,
    group: group || undefined,
    kind: kind || undefined,
    causes: causes.map((c) => ({ reason: c.type, message: c.detail, field: c.field })),
  });
}
