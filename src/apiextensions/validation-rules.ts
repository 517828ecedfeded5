/**
 * x-kubernetes-validations: CEL rules at any node of a CRD's schema, with `self` bound to the
 * value there and `oldSelf` to the stored value at the same place (transition rules run only on
 * update, where an old value correlates: same object field, map key or list-map entry).
 * Compiled once per CRD version; cost-checked statically at CRD write time and, per call and
 * per object, at run time with upstream's limits and messages.
 */
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import { CelCompileError, CelEvaluationError, compile, fromCel, toCel, type CompiledExpression } from '../cel/program.js';
import { PER_CALL_LIMIT, RUNTIME_CEL_COST_BUDGET, sizeOfSchema, sizeOfValue, STATIC_ESTIMATED_COST_LIMIT, STATIC_ESTIMATED_CRD_COST_LIMIT, type SizeNode } from '../cel/cost.js';
import type { JSONSchemaProps, ValidationRule } from './structural-schema.js';

interface CompiledRule {
  rule: ValidationRule;
  program: CompiledExpression;
  message?: CompiledExpression;
  transition: boolean;
}

/** The schema with its rules compiled, node by node. */
export interface RuleTree {
  schema: JSONSchemaProps;
  rules: CompiledRule[];
  properties?: Map<string, RuleTree>;
  additional?: RuleTree;
  items?: RuleTree;
}

const VARIABLES = ['self', 'oldSelf'];

/** Compiles every rule of a schema; `errors` collects compile and cost problems at `path`. */
export function compileRules(schema: JSONSchemaProps | undefined, path: string, errors: FieldError[]): RuleTree | undefined {
  let totalCost = 0;
  const tree = compileNode(schema, path, errors, (cost) => (totalCost += cost), 1);
  if (totalCost > STATIC_ESTIMATED_CRD_COST_LIMIT) {
    errors.push(fieldErrors.forbidden(path, `x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of ${factor(totalCost, STATIC_ESTIMATED_CRD_COST_LIMIT)} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`));
  }
  return tree;
}

function factor(cost: number, limit: number): string {
  return `${(cost / limit).toFixed(6).replace(/0+$/, '').replace(/\.$/, '')}x`;
}

function compileNode(schema: JSONSchemaProps | undefined, path: string, errors: FieldError[], addCost: (cost: number) => void, multiplier: number): RuleTree | undefined {
  if (!schema) return undefined;
  const rules: CompiledRule[] = [];
  const selfSize = sizeOfSchema(schema);
  (schema['x-kubernetes-validations'] ?? []).forEach((rule, index) => {
    const rulePath = `${path}.x-kubernetes-validations[${index}]`;
    let program: CompiledExpression;
    let message: CompiledExpression | undefined;
    try {
      program = compile(rule.rule, VARIABLES);
    } catch (error) {
      if (!(error instanceof CelCompileError)) throw error;
      errors.push(fieldErrors.invalid(`${rulePath}.rule`, rule.rule, `compilation failed: ${error.message}`));
      return;
    }
    try {
      message = rule.messageExpression ? compile(rule.messageExpression, VARIABLES) : undefined;
    } catch (error) {
      if (!(error instanceof CelCompileError)) throw error;
      errors.push(fieldErrors.invalid(`${rulePath}.messageExpression`, rule.messageExpression, `messageExpression compilation failed: ${error.message}`));
      return;
    }
    const cost = program.estimateCost(new Map([['self', selfSize], ['oldSelf', selfSize]]));
    addCost(cost * multiplier);
    if (cost > STATIC_ESTIMATED_COST_LIMIT) {
      errors.push(fieldErrors.forbidden(`${rulePath}.rule`, `estimated rule cost exceeds budget by factor of ${factor(cost, STATIC_ESTIMATED_COST_LIMIT)} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`));
    }
    rules.push({ rule, program, message, transition: program.references.has('oldSelf') });
  });
  const node: RuleTree = { schema, rules };
  let hasRules = rules.length > 0;
  if (schema.properties) {
    node.properties = new Map();
    for (const [key, child] of Object.entries(schema.properties)) {
      const compiled = compileNode(child, `${path}.properties[${key}]`, errors, addCost, multiplier);
      if (compiled) {
        node.properties.set(key, compiled);
        hasRules = true;
      }
    }
  }
  const repeated = (bound: number) => multiplier * Math.max(1, bound);
  if (typeof schema.additionalProperties === 'object') {
    node.additional = compileNode(schema.additionalProperties, `${path}.additionalProperties`, errors, addCost, repeated(sizeOfSchema(schema).size));
    hasRules ||= !!node.additional;
  }
  if (schema.items) {
    node.items = compileNode(schema.items, `${path}.items`, errors, addCost, repeated(sizeOfSchema(schema).size));
    hasRules ||= !!node.items;
  }
  return hasRules ? node : undefined;
}

interface Budget {
  remaining: number;
  exhausted: boolean;
}

/** Runs the rules on a (pruned, defaulted) object; `old` is the stored object on update. */
export function evaluateRules(tree: RuleTree | undefined, value: unknown, old: unknown, path = ''): FieldError[] {
  const errors: FieldError[] = [];
  if (tree) evaluateNode(tree, value, old, path, errors, { remaining: RUNTIME_CEL_COST_BUDGET, exhausted: false });
  return errors;
}

function typeLabel(schema: JSONSchemaProps): string {
  return schema.type ?? 'object';
}

function evaluateNode(tree: RuleTree, value: unknown, old: unknown, path: string, errors: FieldError[], budget: Budget): void {
  if (budget.exhausted || value === undefined || value === null) return;
  if (tree.rules.length > 0) {
    const self = toCel(value, tree.schema);
    const oldSelf = old === undefined ? undefined : toCel(old, tree.schema);
    const sizes = new Map<string, SizeNode | undefined>([['self', sizeOfValue(value)], ['oldSelf', old === undefined ? undefined : sizeOfValue(old)]]);
    for (const compiled of tree.rules) {
      if (compiled.transition && old === undefined && !compiled.rule.optionalOldSelf) continue;
      const bindings = { self, oldSelf: oldSelf ?? null };
      const fieldPath = compiled.rule.fieldPath;
      const field = fieldPath ? (path === '' ? fieldPath.replace(/^\./, '') : `${path}${fieldPath}`) : path;
      try {
        const { value: result, cost } = compiled.program.evaluate(bindings, sizes, Math.min(PER_CALL_LIMIT, budget.remaining));
        budget.remaining -= cost;
        if (result === true) continue;
        if (result !== false) {
          errors.push(fieldErrors.invalid(field, typeLabel(tree.schema), `rule evaluation error: ${compiled.rule.rule} must evaluate to a bool`));
          continue;
        }
        errors.push(ruleFailure(compiled, field, typeLabel(tree.schema), bindings, sizes));
      } catch (error) {
        if (!(error instanceof CelEvaluationError)) throw error;
        if (error.costExceeded) {
          if (budget.remaining < PER_CALL_LIMIT) {
            budget.exhausted = true;
            errors.push(fieldErrors.invalid(field, typeLabel(tree.schema), 'validation failed due to running out of cost budget, no further validation rules will be run'));
            return;
          }
          errors.push(fieldErrors.invalid(field, typeLabel(tree.schema), `call cost exceeds limit for rule: ${compiled.rule.rule}`));
        } else {
          errors.push(fieldErrors.invalid(field, typeLabel(tree.schema), `rule evaluation error: ${error.message}`));
        }
      }
    }
  }
  if (isPlainObject(value)) {
    const oldObject = isPlainObject(old) ? old : undefined;
    for (const [key, child] of Object.entries(value)) {
      const subtree = tree.properties?.get(key) ?? (tree.schema.properties?.[key] ? undefined : tree.additional);
      if (subtree) evaluateNode(subtree, child, oldObject?.[key], path === '' ? key : `${path}.${key}`, errors, budget);
    }
  } else if (Array.isArray(value) && tree.items) {
    const correlate = listCorrelation(tree.schema, old);
    value.forEach((item, index) => evaluateNode(tree.items!, item, correlate(item), `${path}[${index}]`, errors, budget));
  }
}

/** Old elements correlate only in list-type map (by their keys) and set lists (by value). */
function listCorrelation(schema: JSONSchemaProps, old: unknown): (item: unknown) => unknown {
  if (!Array.isArray(old)) return () => undefined;
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'map') {
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    const identity = (item: unknown) => (isPlainObject(item) ? JSON.stringify(keys.map((key) => item[key] ?? null)) : '');
    const byKey = new Map(old.map((item) => [identity(item), item]));
    return (item) => byKey.get(identity(item));
  }
  if (listType === 'set') return (item) => (old.some((o) => JSON.stringify(o) === JSON.stringify(item)) ? item : undefined);
  return () => undefined;
}

function ruleFailure(compiled: CompiledRule, field: string, type: string, bindings: Record<string, unknown>, sizes: Map<string, SizeNode | undefined>): FieldError {
  let message = compiled.rule.message ?? `failed rule: ${compiled.rule.rule}`;
  if (compiled.message) {
    try {
      const text = fromCel(compiled.message.evaluate(bindings, sizes).value);
      if (typeof text === 'string' && text.trim() !== '' && !text.includes('\n')) message = text;
    } catch {
      // A failing messageExpression falls back to message, as upstream.
    }
  }
  switch (compiled.rule.reason) {
    case 'FieldValueForbidden':
      return fieldErrors.forbidden(field, message);
    case 'FieldValueRequired':
      return fieldErrors.required(field, message);
    case 'FieldValueDuplicate':
      return { type: 'FieldValueDuplicate', field, detail: `Duplicate value: ${message}` };
    default:
      return fieldErrors.invalid(field, type, message);
  }
}
