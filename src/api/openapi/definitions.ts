/**
 * The OpenAPI v2 definitions of the Kubernetes types, generated at build time by
 * scripts/generate-openapi.mjs into generated/definitions.json, and lookups over them.
 */

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One OpenAPI v2 schema as Kubernetes publishes it (only the keywords Kubernetes uses). */
export interface Schema {
  $ref?: string;
  description?: string;
  type?: string;
  format?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
  default?: unknown;
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
  [extension: `x-${string}`]: unknown;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export type Definitions = Record<string, Schema>;

export interface GeneratedDefinitions {
  /** Where the definitions came from, e.g. "@kubernetes/client-node 1.4.0". */
  source: string;
  /** The Kubernetes release the definitions describe, e.g. "v1.34.0". */
  kubernetesVersion: string;
  definitions: Definitions;
}

const GENERATED_FILE = 'src/api/openapi/generated/definitions.json';
const DEFINITION_REF_PREFIX = '#/definitions/';

let cached: GeneratedDefinitions | undefined;

/**
 * Loads the generated file once. It is read from the project tree rather than imported so the
 * compiler does not have to type a multi-megabyte JSON literal.
 */
export function loadGeneratedDefinitions(): GeneratedDefinitions {
  if (cached) return cached;
  const file = path.join(findProjectRoot(), GENERATED_FILE);
  cached = JSON.parse(readFileSync(file, 'utf8')) as GeneratedDefinitions;
  return cached;
}

function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, GENERATED_FILE))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`${GENERATED_FILE} not found above ${fileURLToPath(import.meta.url)}; run node scripts/generate-openapi.mjs`);
    }
    dir = parent;
  }
}

/** The definition name a `$ref` of the form "#/definitions/<name>" points to. */
export function refName(ref: string): string {
  return ref.startsWith(DEFINITION_REF_PREFIX) ? ref.slice(DEFINITION_REF_PREFIX.length) : ref;
}

/** A schema with its `$ref` chain followed, and the name of the last definition it led to. */
export function resolveSchema(definitions: Definitions, schema: Schema): { schema: Schema; name?: string } | undefined {
  let current: Schema | undefined = schema;
  let name: string | undefined;
  // Chains of refs are short in practice; the bound guards against a malformed cycle.
  for (let hops = 0; current?.$ref && hops < 16; hops++) {
    name = refName(current.$ref);
    current = definitions[name];
  }
  return current && !current.$ref ? { schema: current, name } : undefined;
}

export function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/** Maps every group-version-kind named by an x-kubernetes-group-version-kind to its definition. */
export function indexByGroupVersionKind(definitions: Definitions): Map<string, string> {
  const index = new Map<string, string>();
  for (const [name, schema] of Object.entries(definitions)) {
    for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
      index.set(gvkKey(gvk.group, gvk.version, gvk.kind), name);
    }
  }
  return index;
}

/** Names of the given definitions and of every definition they reference, transitively. */
export function referenceClosure(definitions: Definitions, roots: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (seen.has(name) || !definitions[name]) continue;
    seen.add(name);
    collectRefs(definitions[name], pending);
  }
  return seen;
}

function collectRefs(schema: Schema, into: string[]): void {
  if (schema.$ref) into.push(refName(schema.$ref));
  for (const child of Object.values(schema.properties ?? {})) collectRefs(child, into);
  if (typeof schema.additionalProperties === 'object') collectRefs(schema.additionalProperties, into);
  if (schema.items) collectRefs(schema.items, into);
  for (const part of schema.allOf ?? []) collectRefs(part, into);
}

/** The subset of `definitions` named in `names`, keys in sorted order for stable output. */
export function pickDefinitions(definitions: Definitions, names: Iterable<string>): Definitions {
  const picked: Definitions = {};
  for (const name of [...names].sort()) {
    const schema = definitions[name];
    if (schema) picked[name] = schema;
  }
  return picked;
}
