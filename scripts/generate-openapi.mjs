#!/usr/bin/env node
// Generates src/api/openapi/generated/definitions.json: the OpenAPI v2 definitions of every
// Kubernetes type, named the upstream way (io.k8s.api.core.v1.Pod, ...), from the generated
// models of @kubernetes/client-node plus the small upstream-only tables beside this script.
//
// Usage (from the project root): node scripts/generate-openapi.mjs [--check]
//   --check  exits 1 if the committed file differs from what would be generated.

import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  LIST_EXTENSIONS, QUANTITY_PROPERTIES, OPAQUE_PROPERTY_TYPES, OPAQUE_DEFINITIONS,
  GROUP_OVERRIDES, META_ROOTS, KINDS_IN_EVERY_GROUP_VERSION, CORE_ONLY_META_KINDS,
} from './openapi-upstream-tables.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = path.join(projectRoot, 'node_modules/@kubernetes/client-node');
const modelsDir = path.join(clientDir, 'dist/gen/models');
const apisDir = path.join(clientDir, 'dist/gen/apis');
const outputFile = path.join(projectRoot, 'src/api/openapi/generated/definitions.json');

const META_PACKAGE = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const CLASS_NAME = /^(?<prefix>[A-Z][a-z]+)?(?<version>V\d+(?:alpha\d+|beta\d+)?)(?<kind>[A-Z]\w*)$/;
const QUOTED_CLASS_NAME = /"((?:[A-Z][a-z]+)?V\d+(?:alpha\d+|beta\d+)?[A-Z]\w*)"/g;

/** Package segment (io.k8s.api.<segment>.<version>) of an API group. */
function packageSegmentOfGroup(group) {
  if (group === '') return 'core';
  if (group === 'internal.apiserver.k8s.io') return 'apiserverinternal';
  return group.split('.')[0];
}

function packageName(segment, version) {
  if (segment === 'meta') return META_PACKAGE;
  if (segment === 'apiextensions') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}`;
  if (segment === 'apiregistration') return `io.k8s.kube-aggregator.pkg.apis.apiregistration.${version}`;
  return `io.k8s.api.${segment}.${version}`;
}

async function loadModels() {
  const models = new Map();
  for (const file of readdirSync(modelsDir).filter((f) => f.endsWith('.js')).sort()) {
    const className = file.slice(0, -3);
    const match = CLASS_NAME.exec(className);
    if (!match) continue; // ObjectSerializer, all, VersionInfo: not API types
    const module = await import(pathToFileURL(path.join(modelsDir, file)).href);
    const attributes = module[className]?.attributeTypeMap;
    if (!Array.isArray(attributes)) continue;
    const docs = parseDeclarationDocs(readFileSync(path.join(modelsDir, `${className}.d.ts`), 'utf8'));
    models.set(className, { className, ...match.groups, attributes, ...docs });
  }
  return models;
}

function unescapeDoc(text) {
  return text.replace(/\\(["'\\])/g, '$1');
}

/** Class and property descriptions (JSDoc) and required-ness ("?"-less properties) from a .d.ts. */
function parseDeclarationDocs(source) {
  const classDoc = /\/\*\*\n((?:(?!\*\/)[\s\S])*)\*\/\s*\nexport declare class/.exec(source);
  const propertyDocs = new Map();
  const required = [];
  const member = /(?:\/\*\*\n(?<doc>(?:(?!\*\/)[\s\S])*)\*\/\s*\n)?\s*'(?<name>[^']+)'(?<optional>\?)?:/g;
  for (const m of source.matchAll(member)) {
    if (m.groups.doc) propertyDocs.set(m.groups.name, docText(m.groups.doc));
    if (!m.groups.optional) required.push(m.groups.name);
  }
  return { description: classDoc ? docText(classDoc[1]) : undefined, propertyDocs, required };
}

function docText(block) {
  return unescapeDoc(block.split('\n').map((line) => line.replace(/^\s*\*\s?/, '')).join('\n').trim());
}

/** group-version of each client-node API class, and the model classes its operations use. */
function loadApiGroups() {
  const groups = [];
  for (const file of readdirSync(apisDir).filter((f) => /V\d\w*Api\.js$/.test(f)).sort()) {
    const source = readFileSync(path.join(apisDir, file), 'utf8');
    const route = /'\/(?:api\/(v1)|apis\/([^/']+)\/([^/']+))\//.exec(source);
    if (!route) continue;
    const group = route[1] ? '' : route[2];
    const version = route[1] ?? route[3];
    const used = new Set([...source.matchAll(QUOTED_CLASS_NAME)].map((m) => m[1]));
    groups.push({ group, version, segment: packageSegmentOfGroup(group), used });
  }
  // Core first: types shared between groups (PodTemplateSpec, ObjectReference...) are core types.
  return groups.sort((a, b) => (a.group === '' ? -1 : b.group === '' ? 1 : a.group.localeCompare(b.group)
    || a.version.localeCompare(b.version)));
}

function referencedClasses(model, models) {
  const names = model.attributes.flatMap((a) => a.type.match(/\b[A-Z]\w*\b/g) ?? []);
  return names.filter((n) => models.has(n));
}

/**
 * Assigns each model class its upstream package segment (core, apps, meta, ...): a type belongs
 * to the first group (meta, then core, then the rest) whose kinds reach it.
 */
function assignPackages(models, apiGroups) {
  const segmentOf = new Map();
  const visit = (roots, segment, version) => {
    const queue = roots.filter((r) => models.has(r) && (!version || models.get(r).version === version));
    while (queue.length > 0) {
      const name = queue.shift();
      if (segmentOf.has(name)) continue;
      segmentOf.set(name, segment);
      for (const next of referencedClasses(models.get(name), models)) {
        if (!segmentOf.has(next) && (!version || models.get(next).version === version)) queue.push(next);
      }
    }
  };
  // Kinds whose group is known up front; core must not claim what only they reach.
  const known = new Map(Object.entries(GROUP_OVERRIDES));
  for (const [name, model] of models) {
    if (model.prefix) known.set(name, model.prefix.toLowerCase());
  }
  visit(META_ROOTS, 'meta');
  for (const [name, segment] of known) segmentOf.set(name, segment);
  const [core, ...others] = apiGroups;
  const rootsOf = (api) => [...api.used].filter((n) => models.get(n)?.version === capitalize(api.version));
  visit(rootsOf(core), core.segment, 'V1');
  for (const [name, segment] of known) {
    visit(referencedClasses(models.get(name), models), segment, models.get(name).version);
  }
  for (const api of others) visit(rootsOf(api), api.segment, capitalize(api.version));
  return segmentOf;
}

function capitalize(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function definitionNameOf(model, segmentOf) {
  const segment = segmentOf.get(model.className);
  if (!segment) throw new Error(`no package found for ${model.className}`);
  return `${packageName(segment, model.version.toLowerCase())}.${model.kind}`;
}

function refTo(name) {
  return { $ref: `#/definitions/${name}` };
}

function schemaOfType(type, format, resolveClass, opaqueDefault) {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return { type: 'array', items: schemaOfType(array[1], '', resolveClass, opaqueDefault) };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return { type: 'object', additionalProperties: schemaOfType(map[1], '', resolveClass, opaqueDefault) };
  switch (type) {
    case 'string': return format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
    case 'boolean': return { type: 'boolean' };
    case 'number':
      if (format === 'int32' || format === 'int64') return { type: 'integer', format };
      return format ? { type: 'number', format } : { type: 'number' };
    case 'Date': return refTo(`${META_PACKAGE}.Time`);
    case 'V1MicroTime': return refTo(`${META_PACKAGE}.MicroTime`);
    case 'IntOrString': return refTo('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    case 'any': return refTo(opaqueDefault);
    default: return refTo(resolveClass(type));
  }
}

function propertySchema(definitionName, attribute, description, resolveClass) {
  const property = attribute.baseName;
  const quantity = QUANTITY_PROPERTIES[definitionName]?.[property];
  const opaque = OPAQUE_PROPERTY_TYPES[definitionName]?.[property] ?? 'io.k8s.apimachinery.pkg.runtime.RawExtension';
  let schema;
  if (quantity === 'map') schema = { type: 'object', additionalProperties: refTo(QUANTITY) };
  else if (quantity === 'single') schema = refTo(QUANTITY);
  else schema = schemaOfType(attribute.type, attribute.format, resolveClass, opaque);
  return {
    ...(description ? { description } : {}),
    ...schema,
    ...(LIST_EXTENSIONS[definitionName]?.[property] ?? {}),
  };
}

function buildDefinitions(models, segmentOf, apiGroups) {
  const nameOf = (className) => definitionNameOf(models.get(className), segmentOf);
  const everyGroupVersion = apiGroups.map(({ group, version }) => ({ group, version }))
    .sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version));
  const groupOfSegment = new Map(apiGroups.map((g) => [g.segment, g.group]));
  const definitions = { ...OPAQUE_DEFINITIONS };

  for (const model of models.values()) {
    // Orphans (types no API operation reaches any more) have no known package: leave them out.
    if (!segmentOf.has(model.className)) continue;
    const name = nameOf(model.className);
    const segment = segmentOf.get(model.className);
    const properties = {};
    for (const attribute of model.attributes) {
      const description = model.propertyDocs.get(attribute.name);
      properties[attribute.baseName] = propertySchema(name, attribute, description, nameOf);
    }
    const required = model.required
      .map((n) => model.attributes.find((a) => a.name === n)?.baseName)
      .filter(Boolean);
    const definition = {
      ...(model.description ? { description: model.description } : {}),
      type: 'object',
      ...(required.length > 0 ? { required } : {}),
      // An empty struct has no "properties": clients read a present-but-empty list as "no fields allowed".
      ...(Object.keys(properties).length > 0 ? { properties } : {}),
    };
    const gvks = groupVersionKinds(model, segment, { everyGroupVersion, groupOfSegment });
    if (gvks.length > 0) definition['x-kubernetes-group-version-kind'] = gvks;
    definitions[name] = definition;
  }
  assertTablesMatch(definitions);
  return Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A table entry that names no real property is a typo or an upstream rename: fail loudly. */
function assertTablesMatch(definitions) {
  for (const table of [LIST_EXTENSIONS, QUANTITY_PROPERTIES, OPAQUE_PROPERTY_TYPES]) {
    for (const [definition, properties] of Object.entries(table)) {
      for (const property of Object.keys(properties)) {
        if (!definitions[definition]?.properties?.[property]) {
          throw new Error(`upstream table names ${definition}.${property}, which the models do not have`);
        }
      }
    }
  }
}

function groupVersionKinds(model, segment, { everyGroupVersion, groupOfSegment }) {
  const hasTypeMeta = ['apiVersion', 'kind'].every((p) => model.attributes.some((a) => a.baseName === p));
  if (segment === 'meta') {
    if (KINDS_IN_EVERY_GROUP_VERSION.includes(model.kind)) {
      return everyGroupVersion.map((gv) => ({ group: gv.group, kind: model.kind, version: gv.version }));
    }
    if (CORE_ONLY_META_KINDS.includes(model.kind)) return [{ group: '', kind: model.kind, version: 'v1' }];
    return [];
  }
  if (!hasTypeMeta) return [];
  const group = groupOfSegment.get(segment);
  if (group === undefined) return [];
  return [{ group, kind: model.kind, version: model.version.toLowerCase() }];
}

async function main() {
  const models = await loadModels();
  const apiGroups = loadApiGroups();
  const segmentOf = assignPackages(models, apiGroups);
  const definitions = buildDefinitions(models, segmentOf, apiGroups);
  const clientPackage = JSON.parse(readFileSync(path.join(clientDir, 'package.json'), 'utf8'));
  const specVersion = /OpenAPI spec version: (v[\d.]+)/.exec(
    readFileSync(path.join(modelsDir, 'V1Pod.d.ts'), 'utf8'))?.[1] ?? 'unknown';
  const document = {
    source: `@kubernetes/client-node ${clientPackage.version}`,
    kubernetesVersion: specVersion,
    definitions,
  };
  const text = `${JSON.stringify(document, null, 1)}\n`;
  if (process.argv.includes('--check')) {
    let current = '';
    try { current = readFileSync(outputFile, 'utf8'); } catch { /* missing counts as stale */ }
    if (current !== text) {
      console.error(`${path.relative(projectRoot, outputFile)} is stale: run node scripts/generate-openapi.mjs`);
      process.exit(1);
    }
    return;
  }
  mkdirSync(path.dirname(outputFile), { recursive: true });
  writeFileSync(outputFile, text);
  console.log(`wrote ${Object.keys(definitions).length} definitions to ${path.relative(projectRoot, outputFile)}`);
}

await main();
