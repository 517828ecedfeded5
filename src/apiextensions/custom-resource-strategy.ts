/**
 * The one custom resource strategy factory: a CRD version becomes a KindStrategy like any
 * built-in kind's, so the generic store and REST handler serve it unchanged. The strategy prunes,
 * defaults and validates by the version's structural schema, runs its CEL rules, prints its
 * additionalPrinterColumns, and declares its status and scale subresources, short names,
 * categories and selectable fields.
 */
import { deepCopy, getPath, isPlainObject } from '../api/object.js';
import type { FieldError } from '../api/status.js';
import { age, ageColumn } from '../registry/common/printing.js';
import type { KindStrategy, Obj, TableColumn } from '../registry/strategy.js';
import { applyDefaults, prune, validateValue, type JSONSchemaProps } from './structural-schema.js';
import { compileRules, evaluateRules, type RuleTree } from './validation-rules.js';

/** The parts of a CustomResourceDefinition a strategy is built from. */
export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: { openAPIV3Schema?: JSONSchemaProps };
  subresources?: { status?: object; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } };
  additionalPrinterColumns?: Array<{ name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }>;
  selectableFields?: Array<{ jsonPath: string }>;
}

export interface CrdNames {
  plural: string;
  singular?: string;
  kind: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
}

export interface CustomResourceDefinitionLike extends Obj {
  spec: { group: string; names: CrdNames; scope: 'Namespaced' | 'Cluster'; versions: CrdVersion[]; conversion?: { strategy?: string } };
}

/** What the apiextensions layer keeps beside a custom resource's strategy. */
export interface CustomResourceInfo {
  crdName: string;
  schema?: JSONSchemaProps;
  storageVersion: string;
}

export type CustomResourceStrategy = KindStrategy & { customResource: CustomResourceInfo };

export function isCustomResource(strategy: KindStrategy): strategy is CustomResourceStrategy {
  return (strategy as Partial<CustomResourceStrategy>).customResource !== undefined;
}

/** A ".spec.replicas" path as the dotted path subresources and columns read. */
function dotted(jsonPath: string): string {
  return jsonPath.replace(/^\{?\./, '').replace(/\}$/, '');
}

/**
 * A simple JSONPath (`.a.b`, `.a[0].b`, `.a[*].b`), as printer columns and selectable fields
 * use; several results print comma-separated, as upstream's table convertor does.
 */
export function readJsonPath(object: unknown, jsonPath: string): unknown {
  const steps = dotted(jsonPath).match(/[^.[\]]+|\[\d+\]|\[\*\]/g) ?? [];
  let current: unknown[] = [object];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if (step === '[*]') {
        if (Array.isArray(value)) next.push(...value);
      } else if (step.startsWith('[')) {
        if (Array.isArray(value)) next.push(value[Number(step.slice(1, -1))]);
      } else if (isPlainObject(value) && value[step] !== undefined) next.push(value[step]);
    }
    current = next.filter((v) => v !== undefined);
  }
  if (current.length === 0) return undefined;
  return current.length === 1 ? current[0] : current.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(',');
}

function printerColumns(version: CrdVersion): TableColumn[] {
  const columns = version.additionalPrinterColumns;
  if (!columns || columns.length === 0) return [ageColumn];
  return columns.map((column) => ({
    name: column.name,
    type: column.type === 'date' ? 'date' : (column.type as TableColumn['type']),
    format: column.format,
    description: column.description,
    priority: column.priority && column.priority > 0 ? 1 : 0,
    cell: (object: Obj) => {
      const value = readJsonPath(object, column.jsonPath);
      if (value === undefined) return undefined;
      if (column.type === 'date' && typeof value === 'string') return age(value);
      if (typeof value === 'object' && value !== null) return JSON.stringify(value);
      return value as string | number | boolean;
    },
  }));
}

/**
 * The strategy serving `version` of `crd`; `errors` receives schema-rule compile problems (the
 * CRD's own validation reports those first, so here they only keep the rule out).
 */
export function customResourceStrategy(crd: CustomResourceDefinitionLike, version: CrdVersion): CustomResourceStrategy {
  const { group, names, scope } = crd.spec;
  const storage = crd.spec.versions.find((v) => v.storage)?.name ?? version.name;
  const schema = version.schema?.openAPIV3Schema;
  const ruleErrors: FieldError[] = [];
  const rules: RuleTree | undefined = schema ? compileRules(schema, '', ruleErrors) : undefined;
  const scale = version.subresources?.scale;
  const selectable = Object.fromEntries(
    (version.selectableFields ?? []).map((field) => [dotted(field.jsonPath), (object: Obj) => {
      const value = readJsonPath(object, field.jsonPath);
      return value === undefined ? undefined : String(value);
    }]),
  );
  const strategy: CustomResourceStrategy = {
    group,
    version: version.name,
    kind: names.kind,
    plural: names.plural,
    singular: names.singular || names.kind.toLowerCase(),
    shortNames: names.shortNames,
    categories: names.categories,
    namespaced: scope !== 'Cluster',
    statusSubresource: version.subresources?.status !== undefined,
    scale: scale ? { specReplicasPath: dotted(scale.specReplicasPath), statusReplicasPath: dotted(scale.statusReplicasPath), labelSelectorPath: scale.labelSelectorPath ? dotted(scale.labelSelectorPath) : undefined } : undefined,
    generation: true,
    storageVersion: storage,
    deprecationWarning: version.deprecated ? (version.deprecationWarning ?? `${group}/${version.name} ${names.kind} is deprecated`) : undefined,
    customResource: { crdName: crd.metadata.name!, schema, storageVersion: storage },
    columns: printerColumns(version),
    fieldSelectors: selectable,

    unknownFields(object: Obj, dropThem: boolean): string[] {
      if (!schema) return [];
      if (dropThem) return prune(object, schema);
      return prune(deepCopy(object), schema);
    },
    defaults(object) {
      if (!schema) return;
      prune(object, schema);
      applyDefaults(object, schema);
    },
    prepareForCreate(object) {
      if (version.subresources?.status !== undefined) delete object.status;
    },
    validate(object, old) {
      if (!schema) return [];
      const errs = validateValue(object, schema);
      if (scale && errs.length === 0) {
        const replicas = getPath(object, dotted(scale.specReplicasPath));
        if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)) {
          errs.push({ type: 'FieldValueInvalid', field: dotted(scale.specReplicasPath), detail: `Invalid value: ${JSON.stringify(replicas)}: should be a non-negative integer` });
        }
      }
      if (errs.length === 0) errs.push(...evaluateRules(rules, stripMetadata(object), old ? stripMetadata(old) : undefined));
      return errs;
    },
  };
  return strategy;
}

/** Rules see the object without server-managed metadata noise; metadata.name and namespace stay. */
function stripMetadata(object: Obj): Obj {
  const { managedFields: _managed, ...metadata } = object.metadata ?? {};
  return { ...object, metadata };
}
