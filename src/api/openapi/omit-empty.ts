/**
 * What upstream's typed round trip drops: a built-in object is decoded into Go structs and
 * encoded back with `omitempty`, so an optional field holding its type's empty value leaves the
 * object — `apiGroup: ""`, `labels: {}`, `env: []`, `x: null`. Driven by the OpenAPI
 * definitions: a property the definition lists as required has no `omitempty` upstream (the
 * OpenAPI generator makes exactly those required) and keeps its value.
 *
 * What the schema cannot tell is Go's pointer fields: `omitempty` drops only a nil pointer, so
 * `storageClassName: ""` (a *string) is a value and stays. Those are listed below, from the Go
 * types. Structs stay even when empty (Go never omits a struct), and so do numbers and booleans:
 * most optional ones are pointers, where zero is a value (`replicas: 0`).
 */

import { resolveSchema as resolve, type Definitions, type Schema } from './definitions.js';
import { isLazyMember, lazyJsonText } from '../object.js';

const CORE = 'io.k8s.api.core.v1';

/** Optional string properties whose Go type is a pointer: there `""` is a value, kept. */
export const POINTER_STRINGS: Readonly<Record<string, readonly string[]>> = {
  [`${CORE}.PersistentVolumeClaimSpec`]: ['storageClassName', 'volumeAttributesClassName', 'volumeMode'],
  [`${CORE}.PersistentVolumeSpec`]: ['volumeAttributesClassName', 'volumeMode'],
  [`${CORE}.PersistentVolumeClaimStatus`]: ['currentVolumeAttributesClassName'],
  [`${CORE}.HostPathVolumeSource`]: ['type'],
  [`${CORE}.CSIVolumeSource`]: ['fsType'],
  [`${CORE}.LocalVolumeSource`]: ['fsType'],
  [`${CORE}.AzureDiskVolumeSource`]: ['cachingMode', 'fsType', 'kind'],
  [`${CORE}.ServiceSpec`]: ['loadBalancerClass', 'internalTrafficPolicy', 'ipFamilyPolicy', 'trafficDistribution'],
  [`${CORE}.ServicePort`]: ['appProtocol'],
  [`${CORE}.EndpointPort`]: ['appProtocol'],
  [`${CORE}.LoadBalancerIngress`]: ['ipMode'],
  [`${CORE}.PodSpec`]: ['runtimeClassName', 'preemptionPolicy', 'hostnameOverride'],
  [`${CORE}.Container`]: ['restartPolicy'],
  [`${CORE}.EphemeralContainer`]: ['restartPolicy'],
  [`${CORE}.Lifecycle`]: ['stopSignal'],
  [`${CORE}.SecurityContext`]: ['procMount'],
  [`${CORE}.PodSecurityContext`]: ['seLinuxChangePolicy'],
  [`${CORE}.SeccompProfile`]: ['localhostProfile'],
  [`${CORE}.AppArmorProfile`]: ['localhostProfile'],
  [`${CORE}.WindowsSecurityContextOptions`]: ['gmsaCredentialSpecName', 'gmsaCredentialSpec', 'runAsUserName'],
  [`${CORE}.TopologySpreadConstraint`]: ['nodeAffinityPolicy', 'nodeTaintsPolicy'],
  [`${CORE}.PodDNSConfigOption`]: ['value'],
  [`${CORE}.GRPCAction`]: ['service'],
  [`${CORE}.VolumeMount`]: ['mountPropagation', 'recursiveReadOnly'],
  [`${CORE}.EndpointAddress`]: ['nodeName'],
  [`${CORE}.ISCSIVolumeSource`]: ['initiatorName'],
  [`${CORE}.ISCSIPersistentVolumeSource`]: ['initiatorName'],
  [`${CORE}.PodResourceClaim`]: ['resourceClaimName', 'resourceClaimTemplateName'],
  [`${CORE}.PodResourceClaimStatus`]: ['resourceClaimName'],
  [`${CORE}.TypedLocalObjectReference`]: ['apiGroup'],
  [`${CORE}.TypedObjectReference`]: ['apiGroup', 'namespace'],
  [`${CORE}.ClusterTrustBundleProjection`]: ['name', 'signerName'],
  'io.k8s.api.batch.v1.JobSpec': ['completionMode', 'podReplacementPolicy', 'managedBy'],
  'io.k8s.api.batch.v1.CronJobSpec': ['timeZone'],
  'io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement': ['containerName'],
  'io.k8s.api.autoscaling.v2.HPAScalingRules': ['selectPolicy'],
  'io.k8s.api.policy.v1.PodDisruptionBudgetSpec': ['unhealthyPodEvictionPolicy'],
  'io.k8s.api.networking.v1.IngressSpec': ['ingressClassName'],
  'io.k8s.api.networking.v1.IngressClassParametersReference': ['apiGroup', 'scope', 'namespace'],
  'io.k8s.api.networking.v1.NetworkPolicyPort': ['protocol'],
  'io.k8s.api.discovery.v1.Endpoint': ['hostname', 'nodeName', 'zone'],
  'io.k8s.api.discovery.v1.EndpointPort': ['name', 'protocol', 'appProtocol'],
  'io.k8s.api.admissionregistration.v1.ValidatingWebhook': ['failurePolicy', 'matchPolicy'],
  'io.k8s.api.admissionregistration.v1.MutatingWebhook': ['failurePolicy', 'matchPolicy', 'reinvocationPolicy'],
  'io.k8s.api.admissionregistration.v1.RuleWithOperations': ['scope'],
  'io.k8s.api.admissionregistration.v1.NamedRuleWithOperations': ['scope'],
  'io.k8s.api.admissionregistration.v1.ServiceReference': ['path'],
  'io.k8s.api.admissionregistration.v1.WebhookClientConfig': ['url'],
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec': ['failurePolicy'],
  'io.k8s.api.admissionregistration.v1.MatchResources': ['matchPolicy'],
  'io.k8s.api.admissionregistration.v1.ParamRef': ['parameterNotFoundAction'],
  'io.k8s.api.admissionregistration.v1.Validation': ['reason'],
  'io.k8s.api.storage.v1.StorageClass': ['reclaimPolicy', 'volumeBindingMode'],
  'io.k8s.api.storage.v1.CSIDriverSpec': ['fsGroupPolicy'],
  'io.k8s.api.storage.v1.VolumeAttachmentSource': ['persistentVolumeName'],
  'io.k8s.api.coordination.v1.LeaseSpec': ['holderIdentity', 'strategy', 'preferredHolder'],
  'io.k8s.api.scheduling.v1.PriorityClass': ['preemptionPolicy'],
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ServiceReference': ['path'],
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookClientConfig': ['url'],
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps': ['$ref', 'x-kubernetes-list-type', 'x-kubernetes-map-type'],
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule': ['reason'],
};

/** Optional list properties declared without omitempty (Go writes an empty list as `[]`). */
const LISTS_WITHOUT_OMITEMPTY: Readonly<Record<string, readonly string[]>> = {
  'io.k8s.api.discovery.v1.EndpointSlice': ['ports'],
};

/** Definitions whose values are opaque JSON: nothing inside is a Go field. */
const OPAQUE = /\.(JSON|JSONSchemaPropsOrBool|JSONSchemaPropsOrArray|RawExtension|FieldsV1|Quantity|IntOrString|Time|MicroTime)$/;

function isEmptyValue(value: unknown, schema: Schema, isMap: boolean): boolean {
  if (value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'string') return value === '' && schema.type === 'string';
  if (typeof value === 'object') return isMap && Object.keys(value as object).length === 0;
  return false;
}

/**
 * Removes, in place, every optional field of `object` that upstream's encoder would omit.
 * Runs a walker compiled once per definitions and schema (see `Plan`): every decision that
 * depends only on the schema (resolved $refs, required, pointer strings, opaque names) is taken
 * when the plan is built, so a write pays only for looking at its own values. Same answers as
 * `dropOmittedValuesInterpreted`, which reads the schemas on every call (kept as the reference
 * the tests compare against).
 */
export function dropOmittedValues(definitions: Definitions, definitionName: string, object: unknown): void {
  if (object === null || typeof object !== 'object') return;
  run(rootPlan(definitions, definitionName), object);
}

/** The schema-interpreting walk: the reference for the compiled one. */
export function dropOmittedValuesInterpreted(definitions: Definitions, definitionName: string, object: unknown): void {
  walk(definitions, { $ref: `#/definitions/${definitionName}` }, object);
}

/** What the walk does with a value of one (unresolved) schema; child plans are built on first use. */
interface Plan {
  readonly definitions: Definitions;
  readonly schema: Schema;
  /** Nothing to look into: the schema does not resolve or names an opaque definition. */
  readonly opaque: boolean;
  /** The resolved schema's items (for array values). */
  readonly itemsSchema?: Schema;
  items?: Plan;
  /** Per property of the resolved schema; undefined when it has none. */
  readonly properties?: Map<string, PropertyPlan>;
  /** The resolved schema's own `properties` object (to reproduce lookups of inherited names). */
  readonly propertySchemas?: Record<string, Schema>;
  readonly resolvedName?: string;
  readonly required?: readonly string[];
  /** additionalProperties (only when there are no properties). */
  readonly valuesSchema?: Schema;
  values?: Plan;
}

interface PropertyPlan {
  readonly schema: Schema;
  /** The property may be omitted when empty (resolves, not required, not opaque). */
  readonly omittable: boolean;
  readonly isMap: boolean;
  readonly stringType: boolean;
  readonly arrayType: boolean;
  readonly pointer: boolean;
  readonly keptList: boolean;
  plan?: Plan;
}

const plans = new WeakMap<Definitions, { roots: Map<string, Plan>; bySchema: WeakMap<Schema, Plan> }>();

function cacheOf(definitions: Definitions) {
  let cache = plans.get(definitions);
  if (!cache) plans.set(definitions, (cache = { roots: new Map(), bySchema: new WeakMap() }));
  return cache;
}

function rootPlan(definitions: Definitions, definitionName: string): Plan {
  const cache = cacheOf(definitions);
  let plan = cache.roots.get(definitionName);
  if (!plan) cache.roots.set(definitionName, (plan = compile(definitions, { $ref: `#/definitions/${definitionName}` })));
  return plan;
}

function planOf(definitions: Definitions, schema: Schema): Plan {
  const cache = cacheOf(definitions);
  let plan = cache.bySchema.get(schema);
  if (!plan) cache.bySchema.set(schema, (plan = compile(definitions, schema)));
  return plan;
}

function compile(definitions: Definitions, schema: Schema): Plan {
  const resolved = resolve(definitions, schema);
  if (!resolved || (resolved.name && OPAQUE.test(resolved.name))) return { definitions, schema, opaque: true };
  const target = resolved.schema;
  let properties: Map<string, PropertyPlan> | undefined;
  if (target.properties) {
    properties = new Map();
    const required = target.required ?? [];
    const pointers = resolved.name ? POINTER_STRINGS[resolved.name] : undefined;
    const keptLists = resolved.name ? LISTS_WITHOUT_OMITEMPTY[resolved.name] : undefined;
    for (const key of Object.keys(target.properties)) {
      const property = target.properties[key]!;
      const inner = resolve(definitions, property);
      const omittable = !!inner && !required.includes(key) && !(inner.name && OPAQUE.test(inner.name));
      properties.set(key, {
        schema: property,
        omittable,
        isMap: !!inner && !inner.schema.properties && typeof inner.schema.additionalProperties === 'object',
        stringType: inner?.schema.type === 'string',
        arrayType: inner?.schema.type === 'array',
        pointer: !!pointers?.includes(key),
        keptList: !!keptLists?.includes(key),
      });
    }
  }
  return {
    definitions,
    schema,
    opaque: false,
    itemsSchema: target.items,
    properties,
    propertySchemas: target.properties,
    resolvedName: resolved.name,
    required: target.required,
    valuesSchema: !target.properties && typeof target.additionalProperties === 'object' ? (target.additionalProperties as Schema) : undefined,
  };
}

function run(plan: Plan, value: object): void {
  if (plan.opaque) return;
  if (Array.isArray(value)) {
    if (!plan.itemsSchema) return;
    const items = (plan.items ??= planOf(plan.definitions, plan.itemsSchema));
    if (items.opaque) return;
    for (const element of value) if (element !== null && typeof element === 'object') run(items, element);
    return;
  }
  const fields = value as Record<string, unknown>;
  const properties = plan.properties;
  if (properties) {
    for (const key in fields) {
      if (!Object.prototype.hasOwnProperty.call(fields, key)) continue;
      const property = properties.get(key);
      // A lazy member (stored managedFields) parses a fresh copy on every read, so walking it
      // changes nothing that stays: only whether it is empty matters, and longer text is not.
      const lazy = property !== undefined && isLazyMember(fields, key);
      if (lazy && lazyJsonText(fields, key)!.length > LONGEST_EMPTY_TEXT) continue;
      const child = fields[key];
      if (!property) {
        // A name found only on the prototype of the schema's properties object (`constructor`):
        // the reference walk looks it up the same way, so take its path for this one key.
        if (plan.propertySchemas![key]) walkMember(plan.definitions, plan.propertySchemas![key]!, plan.required ?? [], plan.resolvedName, key, fields);
        continue;
      }
      if (property.omittable) {
        const kept = (typeof child === 'string' && property.pointer) || (property.keptList && (Array.isArray(child) || (child === null && property.arrayType)));
        if (!kept && isEmpty(child, property.stringType, property.isMap)) {
          delete fields[key];
          continue;
        }
      }
      if (!lazy && child !== null && typeof child === 'object') run((property.plan ??= planOf(plan.definitions, property.schema)), child);
    }
  } else if (plan.valuesSchema) {
    const values = (plan.values ??= planOf(plan.definitions, plan.valuesSchema));
    if (values.opaque) return;
    for (const key in fields) {
      if (!Object.prototype.hasOwnProperty.call(fields, key)) continue;
      const child = fields[key];
      if (child !== null && typeof child === 'object') run(values, child);
    }
  }
}

/** Longer JSON text than this is never an empty value (`null`, `""`, `[]`, `{}`, with some spaces). */
const LONGEST_EMPTY_TEXT = 16;

function isEmpty(value: unknown, stringType: boolean, isMap: boolean): boolean {
  if (value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'string') return value === '' && stringType;
  if (typeof value === 'object') return isMap && Object.keys(value as object).length === 0;
  return false;
}

/**
 * The reference walk's step for one member of an object whose schema gives it `property`: dropped
 * when it may be omitted and is empty, walked into otherwise. `definitionName` names the object's
 * definition (for the pointer-string and kept-list tables).
 */
function walkMember(definitions: Definitions, property: Schema, required: readonly string[], definitionName: string | undefined, key: string, fields: Record<string, unknown>): void {
  const child = fields[key];
  const pointers = definitionName ? POINTER_STRINGS[definitionName] : undefined;
  const keptLists = definitionName ? LISTS_WITHOUT_OMITEMPTY[definitionName] : undefined;
  const inner = resolve(definitions, property);
  if (inner && !required.includes(key) && !(inner.name && OPAQUE.test(inner.name))) {
    const isMap = !inner.schema.properties && typeof inner.schema.additionalProperties === 'object';
    const kept = (typeof child === 'string' && pointers?.includes(key)) || (Array.isArray(child) && keptLists?.includes(key)) || (child === null && inner.schema.type === 'array' && keptLists?.includes(key));
    if (!kept && isEmptyValue(child, inner.schema, isMap)) {
      delete fields[key];
      return;
    }
  }
  walk(definitions, property, child);
}

function walk(definitions: Definitions, schema: Schema, value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const resolved = resolve(definitions, schema);
  if (!resolved || (resolved.name && OPAQUE.test(resolved.name))) return;
  const target = resolved.schema;
  if (Array.isArray(value)) {
    if (target.items) for (const element of value) walk(definitions, target.items, element);
    return;
  }
  const fields = value as Record<string, unknown>;
  if (target.properties) {
    const required = target.required ?? [];
    for (const key of Object.keys(fields)) {
      const property = target.properties[key];
      if (property) walkMember(definitions, property, required, resolved.name, key, fields);
    }
  } else if (typeof target.additionalProperties === 'object') {
    for (const child of Object.values(fields)) walk(definitions, target.additionalProperties, child);
  }
}
