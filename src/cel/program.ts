/**
 * Compiling and running one Kubernetes CEL expression: parse (syntax errors and undeclared
 * references are compile errors, worded as cel-go words them), plan once, then evaluate many
 * times with JSON values converted to CEL's types (integers as int where the schema says so).
 */
import { parse, plan, isCelError, isCelList, isCelMap, type CelValue } from '@bufbuild/cel';
import type { Expr, ParsedExpr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { isPlainObject } from '../api/object.js';
import { kubernetesCelEnv } from './library.js';
import { estimateCost, PER_CALL_LIMIT, type SizeNode } from './cost.js';

export class CelCompileError extends Error {}

/** The evaluation failed (a missing key, a bad argument, the cost limit): upstream reports these per rule. */
export class CelEvaluationError extends Error {
  constructor(message: string, readonly costExceeded = false) {
    super(message);
  }
}

export interface CompiledExpression {
  readonly source: string;
  readonly expr: Expr;
  /** The variables the expression mentions (e.g. whether a rule reads oldSelf). */
  readonly references: ReadonlySet<string>;
  estimateCost(sizes: ReadonlyMap<string, SizeNode | undefined>): number;
  /**
   * Evaluates with already converted bindings. `sizes` (the actual values' sizes) bound the
   * cost first: over `costLimit` the expression is not run.
   */
  evaluate(bindings: Record<string, unknown>, sizes?: ReadonlyMap<string, SizeNode | undefined>, costLimit?: number): { value: CelValue; cost: number };
}

function position(parsed: ParsedExpr, id: bigint): string {
  const offset = parsed.sourceInfo?.positions[id.toString() as unknown as number] ?? 0;
  const lines = parsed.sourceInfo?.lineOffsets ?? [];
  let line = 1;
  let start = 0;
  for (const lineOffset of lines) {
    if (lineOffset > offset) break;
    line++;
    start = lineOffset;
  }
  return `${line}:${offset - start + 1}`;
}

/** Names an expression reads that are neither declared nor bound by a comprehension. */
function undeclared(expr: Expr | undefined, declared: ReadonlySet<string>, found: Array<{ name: string; id: bigint }>, references: Set<string>): void {
  const kind = expr?.exprKind;
  switch (kind?.case) {
    case 'identExpr':
      references.add(kind.value.name);
      if (!declared.has(kind.value.name)) found.push({ name: kind.value.name, id: expr!.id });
      return;
    case 'selectExpr':
      return undeclared(kind.value.operand, declared, found, references);
    case 'callExpr':
      undeclared(kind.value.target, declared, found, references);
      for (const arg of kind.value.args) undeclared(arg, declared, found, references);
      return;
    case 'listExpr':
      for (const element of kind.value.elements) undeclared(element, declared, found, references);
      return;
    case 'structExpr':
      for (const entry of kind.value.entries) {
        if (entry.keyKind.case === 'mapKey') undeclared(entry.keyKind.value, declared, found, references);
        undeclared(entry.value, declared, found, references);
      }
      return;
    case 'comprehensionExpr': {
      const c = kind.value;
      undeclared(c.iterRange, declared, found, references);
      undeclared(c.accuInit, declared, found, references);
      const inner = new Set([...declared, c.iterVar, c.accuVar, ...(c.iterVar2 ? [c.iterVar2] : [])]);
      for (const part of [c.loopCondition, c.loopStep, c.result]) undeclared(part, inner, found, references);
      return;
    }
    default:
      return;
  }
}

/** Functions that only exist as macros or globals of the standard library (not variables). */
const GLOBALS = new Set(['null', 'true', 'false', 'int', 'uint', 'double', 'string', 'bytes', 'bool', 'list', 'map', 'type', 'null_type', 'dyn']);

export function compile(source: string, variables: readonly string[]): CompiledExpression {
  let parsed: ParsedExpr & { expr: Expr };
  try {
    parsed = parse(source);
  } catch (error) {
    throw new CelCompileError(`ERROR: ${(error as Error).message.replace(/^<input>:/, '<input>:')}`);
  }
  const declared = new Set([...variables, ...GLOBALS]);
  const missing: Array<{ name: string; id: bigint }> = [];
  const references = new Set<string>();
  undeclared(parsed.expr, declared, missing, references);
  if (missing.length > 0) {
    throw new CelCompileError(missing.map((m) => `ERROR: <input>:${position(parsed, m.id)}: undeclared reference to '${m.name}' (in container '')`).join('\n'));
  }
  const program = plan(kubernetesCelEnv(), parsed);
  const estimate = (sizes: ReadonlyMap<string, SizeNode | undefined>) => estimateCost(parsed.expr, sizes);
  return {
    source,
    expr: parsed.expr,
    references,
    estimateCost: estimate,
    evaluate(bindings, sizes, costLimit = PER_CALL_LIMIT) {
      const cost = sizes ? estimate(sizes) : 0;
      if (cost > costLimit) throw new CelEvaluationError('operation cancelled: actual cost limit exceeded', true);
      const result = (program as (ctx: Record<string, unknown>) => unknown)(bindings);
      if (isCelError(result)) throw new CelEvaluationError(result.message.replace(/^field not found: /, 'no such key: '));
      return { value: result as CelValue, cost };
    },
  };
}

/** A schema's view of types, enough to give CEL ints and doubles where JSON has only numbers. */
export interface TypeHint {
  type?: string;
  properties?: Record<string, TypeHint>;
  additionalProperties?: TypeHint | boolean;
  items?: TypeHint;
  'x-kubernetes-int-or-string'?: boolean;
}

/** JSON → CEL input: integers become int (bigint) unless the schema says number (double). */
export function toCel(value: unknown, hint?: TypeHint): unknown {
  if (typeof value === 'number') {
    if (hint?.type === 'number') return value;
    return Number.isInteger(value) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) return value.map((item) => toCel(item, hint?.items));
  if (isPlainObject(value)) {
    const values = typeof hint?.additionalProperties === 'object' ? hint.additionalProperties : undefined;
    const converted = new Map<string, unknown>();
    for (const [key, child] of Object.entries(value)) converted.set(key, toCel(child, hint?.properties?.[key] ?? values));
    return converted;
  }
  return value;
}

/** CEL → JSON, for results that leave CEL (messageExpression text, VAP variables in messages). */
export function fromCel(value: CelValue): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (isCelList(value)) return [...value].map(fromCel);
  if (isCelMap(value)) return Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), fromCel(v)]));
  return value;
}
