import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDefaults, prune, structuralErrors, validateValue, type JSONSchemaProps } from '../../src/apiextensions/structural-schema.js';
import { compileRules, evaluateRules } from '../../src/apiextensions/validation-rules.js';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['image'],
      properties: {
        image: { type: 'string', minLength: 3, pattern: '^[a-z]+$' },
        replicas: { type: 'integer', default: 1, minimum: 0, maximum: 10 },
        port: { 'x-kubernetes-int-or-string': true },
        tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set', maxItems: 3 },
        ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer', default: 80 } } } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } } },
        size: { type: 'string', enum: ['small', 'large'] },
      },
    },
  },
};

describe('structural schema', () => {
  it('prunes unknown fields but keeps preserved and embedded type meta', () => {
    const object = {
      apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a' },
      spec: { image: 'nginx', bogus: 1, extra: { anything: { goes: true } }, template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { a: 'x', b: 'y' } }, ports: [{ name: 'http', junk: 1 }] },
      other: true,
    };
    assert.deepEqual(prune(object, schema), ['other', 'spec.bogus', 'spec.ports[0].junk', 'spec.template.spec.b']);
    assert.deepEqual(object.spec.extra, { anything: { goes: true } });
    assert.equal(object.spec.template.kind, 'Pod');
    assert.equal(object.apiVersion, 'x/v1');
  });

  it('fills in defaults, also inside list items', () => {
    const object: Record<string, any> = { spec: { image: 'nginx', ports: [{ name: 'http' }, { name: 'https', port: 443 }] } };
    applyDefaults(object, schema);
    assert.equal(object.spec.replicas, 1);
    assert.deepEqual(object.spec.ports, [{ name: 'http', port: 80 }, { name: 'https', port: 443 }]);
  });

  it("validates with upstream's messages", () => {
    const errs = validateValue({ spec: { image: 'NG', replicas: 11, port: 1.5, tags: ['a', 'a', 'b', 'c'], ports: [{ name: 'x' }, { name: 'x' }], size: 'medium' } }, schema);
    const lines = errs.map((e) => `${e.field}: ${e.detail}`);
    assert.deepEqual(lines, [
      'spec.image: Invalid value: "NG": spec.image in body should be at least 3 chars long',
      "spec.image: Invalid value: \"NG\": spec.image in body should match '^[a-z]+$'",
      'spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10',
      'spec.port: Invalid value: "number": spec.port in body must be of type integer,string: "number"',
      'spec.tags: Too many: 4: must have at most 3 items',
      'spec.tags[1]: Duplicate value: "a"',
      'spec.ports[1]: Duplicate value: {"name":"x"}',
      'spec.size: Unsupported value: "medium": supported values: "small", "large"',
    ]);
    assert.deepEqual(validateValue({ spec: {} }, schema).map((e) => `${e.field}: ${e.detail}`), ['spec.image: Required value']);
    assert.match(validateValue({ spec: { image: 'abc', replicas: 'two' } }, schema)[0].detail, /spec\.replicas in body must be of type integer: "string"/);
  });

  it('refuses schemas that are not structural', () => {
    const errs = structuralErrors({ type: 'object', properties: { spec: { properties: { a: { type: 'string' } } }, list: { type: 'array' } } }, 'spec.versions[0].schema.openAPIV3Schema');
    assert.deepEqual(errs.map((e) => `${e.field}: ${e.detail}`), [
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
      'spec.versions[0].schema.openAPIV3Schema.properties[list].items: Required value: must be specified',
    ]);
  });
});

describe('x-kubernetes-validations', () => {
  const ruled: JSONSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        'x-kubernetes-validations': [
          { rule: 'self.min <= self.max', messageExpression: "'min ' + string(self.min) + ' exceeds max ' + string(self.max)" },
          { rule: 'self.max >= oldSelf.max', message: 'max may not shrink', reason: 'FieldValueForbidden' },
          { rule: 'self.name.matches("^[a-z]+$")', fieldPath: '.name' },
        ],
        properties: { min: { type: 'integer' }, max: { type: 'integer' }, name: { type: 'string', maxLength: 10 } },
      },
    },
  };

  it('runs rules, messageExpression, transition rules only on update, fieldPath and reason', () => {
    const errors: never[] = [];
    const tree = compileRules(ruled, 'schema', errors);
    assert.deepEqual(errors, []);
    const created = evaluateRules(tree, { spec: { min: 5, max: 3, name: 'Bad' } }, undefined);
    assert.deepEqual(created.map((e) => `${e.field}: ${e.detail}`), ['spec: Invalid value: "object": min 5 exceeds max 3', 'spec.name: Invalid value: "object": failed rule: self.name.matches("^[a-z]+$")']);
    const updated = evaluateRules(tree, { spec: { min: 1, max: 3, name: 'ok' } }, { spec: { min: 1, max: 4, name: 'ok' } });
    assert.deepEqual(updated.map((e) => `${e.field}: ${e.detail}`), ['spec: Forbidden: max may not shrink']);
  });

  it('refuses rules that do not compile or are estimated too costly', () => {
    const errors: Array<{ field: string; detail: string }> = [];
    compileRules({ type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.x >' }, { rule: 'nope == 1' }], properties: { x: { type: 'integer' } } } } }, 'schema', errors as never);
    assert.match(errors[0].detail, /^Invalid value: "self\.x >": compilation failed: ERROR: <input>:1:/);
    assert.match(errors[1].detail, /compilation failed: ERROR: <input>:1:1: undeclared reference to 'nope'/);

    const unbounded: JSONSchemaProps = { type: 'object', properties: { list: { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'self.all(x, self.all(y, x.startsWith(y)))' }] } } };
    const costErrors: Array<{ field: string; detail: string }> = [];
    compileRules(unbounded, 'schema', costErrors as never);
    assert.equal(costErrors[0].field, 'schema.properties[list].x-kubernetes-validations[0].rule');
    assert.match(costErrors[0].detail, /^Forbidden: estimated rule cost exceeds budget by factor of [\d.]+x \(try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared\)/);
    const bounded: JSONSchemaProps = { type: 'object', properties: { list: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 10 }, 'x-kubernetes-validations': [{ rule: 'self.all(x, self.all(y, x.startsWith(y)))' }] } } };
    const none: never[] = [];
    compileRules(bounded, 'schema', none);
    assert.deepEqual(none, []);
  });

  it('stops a rule whose actual cost exceeds the per-call limit before running it', () => {
    const schemaWithRule: JSONSchemaProps = { type: 'object', properties: { list: { type: 'array', maxItems: 5000, items: { type: 'string', maxLength: 1 }, 'x-kubernetes-validations': [{ rule: 'self.all(x, self.all(y, self.all(z, x != y || y != z)))' }] } } };
    const errors: Array<{ field: string; detail: string }> = [];
    const tree = compileRules(schemaWithRule, 'schema', errors as never);
    const small = evaluateRules(tree, { list: ['a', 'b'] }, undefined);
    assert.deepEqual(small.map((e) => e.detail), ['Invalid value: "array": failed rule: self.all(x, self.all(y, self.all(z, x != y || y != z)))']);
    const big = evaluateRules(tree, { list: Array.from({ length: 200 }, (_, i) => String(i % 10)) }, undefined);
    assert.match(big[0].detail, /call cost exceeds limit for rule|running out of cost budget/);
  });
});
