/**
 * Encodes a Swagger 2.0 document as the gnostic `openapi.v2.Document` protobuf message, the
 * form kubectl asks /openapi/v2 for (application/com.github.proto-openapi.spec.v2@v1.0+protobuf)
 * and the only form client-go can parse there. Field numbers follow gnostic's OpenAPIv2.proto.
 * Vendor extensions travel as YAML text (JSON is valid YAML), as gnostic stores them.
 */

import { ProtoWriter } from './protobuf-writer.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const asStrings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** gnostic `Any`: the value as YAML text (field 2). */
function encodeAny(value: unknown): Buffer {
  return new ProtoWriter().string(2, JSON.stringify(value)).finish();
}

/** gnostic `NamedAny` entries for every "x-" key of an object. */
function vendorExtensions(object: Json): Buffer[] {
  return Object.keys(object)
    .filter((key) => key.startsWith('x-'))
    .map((key) => new ProtoWriter().string(1, key).message(2, encodeAny(object[key])).finish());
}

/** gnostic `Schema`. */
export function encodeSchema(schema: Json): Buffer {
  const writer = new ProtoWriter()
    .string(1, asString(schema.$ref))
    .string(2, asString(schema.format))
    .string(3, asString(schema.title))
    .string(4, asString(schema.description));
  if ('default' in schema) writer.message(5, encodeAny(schema.default));
  writer.strings(19, asStrings(schema.required));
  if (Array.isArray(schema.enum)) writer.messages(20, schema.enum.map(encodeAny));
  const additional = schema.additionalProperties;
  if (isObject(additional)) writer.message(21, new ProtoWriter().message(1, encodeSchema(additional)).finish());
  else if (typeof additional === 'boolean') writer.message(21, booleanOneof(additional));
  if (typeof schema.type === 'string') writer.message(22, new ProtoWriter().strings(1, [schema.type]).finish());
  if (isObject(schema.items)) writer.message(23, new ProtoWriter().messages(1, [encodeSchema(schema.items)]).finish());
  if (Array.isArray(schema.allOf)) writer.messages(24, schema.allOf.filter(isObject).map(encodeSchema));
  if (isObject(schema.properties)) writer.message(25, namedSchemas(schema.properties));
  writer.bool(27, schema.readOnly === true);
  return writer.messages(31, vendorExtensions(schema)).finish();
}

/** AdditionalPropertiesItem's `bool boolean = 2` oneof arm; false must still be present. */
function booleanOneof(value: boolean): Buffer {
  return value ? new ProtoWriter().bool(2, true).finish() : Buffer.from([0x10, 0x00]);
}

/** `Properties` / `Definitions`: repeated NamedSchema (name = 1, value = 2) in field 1. */
function namedSchemas(schemas: Json): Buffer {
  const entries = Object.entries(schemas).filter((entry): entry is [string, Json] => isObject(entry[1]));
  return new ProtoWriter()
    .messages(1, entries.map(([name, schema]) => new ProtoWriter().string(1, name).message(2, encodeSchema(schema)).finish()))
    .finish();
}

/** `ParametersItem` wrapping a body or non-body `Parameter`. */
function encodeParameter(parameter: Json): Buffer {
  let encoded: Buffer;
  if (parameter.in === 'body') {
    const body = new ProtoWriter()
      .string(1, asString(parameter.description))
      .string(2, asString(parameter.name))
      .string(3, 'body')
      .bool(4, parameter.required === true);
    if (isObject(parameter.schema)) body.message(5, encodeSchema(parameter.schema));
    encoded = new ProtoWriter().message(1, body.finish()).finish();
  } else {
    const isPath = parameter.in === 'path';
    // Query and path sub-schemas share their first four fields but number the rest differently.
    const sub = new ProtoWriter()
      .bool(1, parameter.required === true)
      .string(2, asString(parameter.in))
      .string(3, asString(parameter.description))
      .string(4, asString(parameter.name))
      .string(isPath ? 5 : 6, asString(parameter.type))
      .string(isPath ? 6 : 7, asString(parameter.format))
      .bool(isPath ? 19 : 20, parameter.uniqueItems === true)
      .finish();
    encoded = new ProtoWriter().message(2, new ProtoWriter().message(isPath ? 4 : 3, sub).finish()).finish();
  }
  return new ProtoWriter().message(1, encoded).finish();
}

function encodeResponses(responses: Json): Buffer {
  const codes = Object.entries(responses).filter((entry): entry is [string, Json] => isObject(entry[1]));
  return new ProtoWriter().messages(1, codes.map(([code, response]) => {
    const body = new ProtoWriter().string(1, asString(response.description));
    if (isObject(response.schema)) body.message(2, new ProtoWriter().message(1, encodeSchema(response.schema)).finish());
    const value = new ProtoWriter().message(1, body.finish()).finish();
    return new ProtoWriter().string(1, code).message(2, value).finish();
  })).finish();
}

function encodeOperation(operation: Json): Buffer {
  const parameters = Array.isArray(operation.parameters) ? operation.parameters.filter(isObject) : [];
  const writer = new ProtoWriter()
    .strings(1, asStrings(operation.tags))
    .string(3, asString(operation.description))
    .string(5, asString(operation.operationId))
    .strings(6, asStrings(operation.produces))
    .strings(7, asStrings(operation.consumes))
    .messages(8, parameters.map(encodeParameter));
  if (isObject(operation.responses)) writer.message(9, encodeResponses(operation.responses));
  return writer.strings(10, asStrings(operation.schemes)).messages(13, vendorExtensions(operation)).finish();
}

const PATH_ITEM_METHOD_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 };

function encodePathItem(item: Json): Buffer {
  const writer = new ProtoWriter();
  for (const [method, field] of Object.entries(PATH_ITEM_METHOD_FIELDS)) {
    const operation = item[method];
    if (isObject(operation)) writer.message(field, encodeOperation(operation));
  }
  const parameters = Array.isArray(item.parameters) ? item.parameters.filter(isObject) : [];
  return writer.messages(9, parameters.map(encodeParameter)).messages(10, vendorExtensions(item)).finish();
}

/** gnostic `Document`. */
export function encodeSwaggerDocument(document: Json): Buffer {
  const info = isObject(document.info) ? document.info : {};
  const writer = new ProtoWriter()
    .string(1, asString(document.swagger))
    .message(2, new ProtoWriter().string(1, asString(info.title)).string(2, asString(info.version)).finish());
  if (isObject(document.paths)) {
    const items = Object.entries(document.paths).filter((entry): entry is [string, Json] => isObject(entry[1]));
    writer.message(8, new ProtoWriter()
      .messages(2, items.map(([path, item]) => new ProtoWriter().string(1, path).message(2, encodePathItem(item)).finish()))
      .finish());
  }
  if (isObject(document.definitions)) writer.message(9, namedSchemas(document.definitions));
  return writer.messages(16, vendorExtensions(document)).finish();
}
