/**
 * CEL cost, after cel-go's estimator as Kubernetes uses it: every node costs 1, string and list
 * work costs a tenth of a unit per byte or element, and a comprehension costs its body times
 * the size of what it iterates. The same walk serves two purposes:
 *
 * - statically, with sizes from the schema (maxLength, maxItems, maxProperties; unbounded ones
 *   from the largest request the server accepts), to refuse rules too costly at CRD write time;
 * - at run time, with the sizes of the actual values, BEFORE evaluating — so a costly rule is
 *   refused without spending the CPU (cel-go counts during evaluation; this bound is never lower).
 */
import type { Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { isPlainObject } from '../api/object.js';

/** Upstream's limits (k8s.io/apiserver/pkg/apis/cel). */
export const PER_CALL_LIMIT = 1_000_000;
export const RUNTIME_CEL_COST_BUDGET = 10_000_000;
export const STATIC_ESTIMATED_COST_LIMIT = 10_000_000;
export const STATIC_ESTIMATED_CRD_COST_LIMIT = 100_000_000;
/** The largest request body: bounds every unbounded string, list and map (3 MiB, as upstream). */
export const MAX_REQUEST_SIZE_BYTES = 3 * 1024 * 1024;

/** How big a value can be: length for strings and lists, entry count for maps, and its parts. */
export interface SizeNode {
  size: number;
  fields?: Map<string, SizeNode>;
  /** List elements or map values. */
  element?: SizeNode;
}

export function mergeSizes(a: SizeNode | undefined, b: SizeNode | undefined): SizeNode | undefined {
  if (!a) return b;
  if (!b) return a;
  const merged: SizeNode = { size: Math.max(a.size, b.size), element: mergeSizes(a.element, b.element) };
  if (a.fields || b.fields) {
    merged.fields = new Map(a.fields);
    for (const [key, node] of b.fields ?? []) merged.fields.set(key, mergeSizes(merged.fields.get(key), node)!);
  }
  return merged;
}

/** Sizes of an actual value (lists and maps report the largest of their elements). */
export function sizeOfValue(value: unknown): SizeNode {
  if (typeof value === 'string') return { size: value.length };
  if (Array.isArray(value)) {
    let element: SizeNode | undefined;
    for (const item of value) element = mergeSizes(element, sizeOfValue(item));
    return { size: value.length, element };
  }
  if (isPlainObject(value)) {
    const fields = new Map<string, SizeNode>();
    let element: SizeNode | undefined;
    for (const [key, child] of Object.entries(value)) {
      const node = sizeOfValue(child);
      fields.set(key, node);
      element = mergeSizes(element, node);
    }
    return { size: fields.size, fields, element };
  }
  return { size: 0 };
}

/** The smallest a JSON value of this schema can serialize to (how many fit in a request). */
function minSerializedSize(schema: SchemaBounds | undefined): number {
  switch (schema?.type) {
    case 'string':
      return 2 + (schema.minLength ?? 0);
    case 'boolean':
      return 4;
    case 'integer':
    case 'number':
      return 1;
    default:
      return 2;
  }
}

/** What the estimator reads of a structural schema. */
export interface SchemaBounds {
  type?: string;
  maxLength?: number;
  minLength?: number;
  maxItems?: number;
  maxProperties?: number;
  properties?: Record<string, SchemaBounds>;
  additionalProperties?: SchemaBounds | boolean;
  items?: SchemaBounds;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** Worst-case sizes a schema allows; `budget` is the bytes left for this value in the request. */
export function sizeOfSchema(schema: SchemaBounds | undefined, budget = MAX_REQUEST_SIZE_BYTES): SizeNode {
  if (!schema) return { size: budget };
  if (schema.type === 'string') return { size: Math.min(schema.maxLength ?? budget, budget) };
  if (schema.type === 'array') {
    const size = Math.min(schema.maxItems ?? Infinity, Math.floor(budget / (minSerializedSize(schema.items) + 1)));
    return { size, element: sizeOfSchema(schema.items, budget) };
  }
  if (schema.type === 'object' || schema.properties || schema.additionalProperties) {
    const node: SizeNode = { size: 0 };
    if (schema.properties) {
      node.fields = new Map(Object.entries(schema.properties).map(([key, child]) => [key, sizeOfSchema(child, budget)]));
      node.size = node.fields.size;
    }
    const values = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    if (values || schema['x-kubernetes-preserve-unknown-fields']) {
      node.size = Math.min(schema.maxProperties ?? Infinity, Math.floor(budget / (minSerializedSize(values) + 4)));
      node.element = sizeOfSchema(values, budget);
    }
    return node;
  }
  return { size: 0 };
}

const STRING_TRAVERSAL = 0.1;
/** Functions whose cost is linear in the size of their receiver (or first argument). */
const LINEAR = new Set(['contains', 'startsWith', 'endsWith', 'lowerAscii', 'upperAscii', 'trim', 'split', 'replace', 'indexOf', 'lastIndexOf', 'substring', 'join', 'isSorted', 'sum', 'min', 'max', 'url', 'isURL', 'format']);

interface Estimate {
  cost: number;
  size?: SizeNode;
}

/** The estimated cost of `expr` with variables of the given sizes. */
export function estimateCost(expr: Expr, variables: ReadonlyMap<string, SizeNode | undefined>): number {
  return walk(expr, variables).cost;
}

function walk(expr: Expr | undefined, scope: ReadonlyMap<string, SizeNode | undefined>): Estimate {
  const kind = expr?.exprKind;
  switch (kind?.case) {
    case 'constExpr': {
      const constant = kind.value.constantKind;
      return { cost: 0, size: constant.case === 'stringValue' ? { size: constant.value.length } : { size: 0 } };
    }
    case 'identExpr':
      return { cost: 1, size: scope.get(kind.value.name) };
    case 'selectExpr': {
      const operand = walk(kind.value.operand, scope);
      const size = operand.size?.fields?.get(kind.value.field) ?? operand.size?.element;
      return { cost: operand.cost + 1, size };
    }
    case 'listExpr': {
      let cost = 1;
      let element: SizeNode | undefined;
      for (const item of kind.value.elements) {
        const estimate = walk(item, scope);
        cost += estimate.cost;
        element = mergeSizes(element, estimate.size);
      }
      return { cost, size: { size: kind.value.elements.length, element } };
    }
    case 'structExpr': {
      let cost = 1;
      const fields = new Map<string, SizeNode>();
      for (const entry of kind.value.entries) {
        const value = walk(entry.value, scope);
        cost += value.cost + (entry.keyKind.case === 'mapKey' ? walk(entry.keyKind.value, scope).cost : 0);
        if (entry.keyKind.case === 'fieldKey' && value.size) fields.set(entry.keyKind.value, value.size);
      }
      return { cost, size: { size: kind.value.entries.length, fields } };
    }
    case 'callExpr':
      return call(kind.value.function, kind.value.target, kind.value.args, scope);
    case 'comprehensionExpr': {
      const c = kind.value;
      const range = walk(c.iterRange, scope);
      const init = walk(c.accuInit, scope);
      const iterations = range.size?.size ?? 0;
      const inner = new Map(scope);
      inner.set(c.iterVar, range.size?.element);
      if (c.iterVar2) inner.set(c.iterVar2, range.size?.element);
      // The accumulator can grow to one entry per iteration (map, filter).
      inner.set(c.accuVar, { size: iterations, element: range.size?.element });
      const condition = walk(c.loopCondition, inner);
      const step = walk(c.loopStep, inner);
      const result = walk(c.result, inner);
      return { cost: range.cost + init.cost + iterations * (condition.cost + step.cost) + result.cost, size: { size: iterations, element: range.size?.element } };
    }
    default:
      return { cost: 0 };
  }
}

function call(name: string, target: Expr | undefined, args: readonly Expr[], scope: ReadonlyMap<string, SizeNode | undefined>): Estimate {
  const receiver = target ? walk(target, scope) : undefined;
  const argEstimates = args.map((arg) => walk(arg, scope));
  let cost = 1 + (receiver?.cost ?? 0) + argEstimates.reduce((sum, e) => sum + e.cost, 0);
  const subject = receiver?.size ?? argEstimates[0]?.size;
  const subjectSize = subject?.size ?? 0;
  switch (name) {
    case '_[_]':
      return { cost, size: argEstimates[0]?.size?.element ?? argEstimates[0]?.size?.fields?.get('') };
    case '_==_':
    case '_!=_':
    case '_+_':
    case 'size':
      cost += Math.ceil(Math.max(subjectSize, argEstimates[1]?.size?.size ?? 0) * STRING_TRAVERSAL);
      if (name === '_+_') return { cost, size: { size: subjectSize + (argEstimates[1]?.size?.size ?? 0), element: mergeSizes(argEstimates[0]?.size?.element, argEstimates[1]?.size?.element) } };
      return { cost };
    case '@in':
      // Membership scans the list it looks in.
      return { cost: cost + (argEstimates[1]?.size?.size ?? 0) };
    case 'matches': {
      const pattern = (receiver ? argEstimates[0] : argEstimates[1])?.size?.size ?? 1;
      const text = receiver ? subjectSize : (argEstimates[0]?.size?.size ?? 0);
      return { cost: cost + Math.ceil(text * STRING_TRAVERSAL) * Math.max(1, Math.ceil(pattern / 4)) };
    }
    default:
      if (LINEAR.has(name)) cost += Math.ceil(subjectSize * STRING_TRAVERSAL);
      return { cost, size: name === 'split' ? { size: subjectSize, element: subject } : subject };
  }
}
