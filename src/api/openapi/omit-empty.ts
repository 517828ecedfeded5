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

/** Removes, in place, every optional field of `object` that upstream's encoder would omit. */
export function dropOmittedValues(definitions: Definitions, definitionName: string, object: unknown): void {
  walk(definitions, { $ref: `#/definitions/${definitionName}` }, object);
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
    const pointers = resolved.name ? POINTER_STRINGS[resolved.name] : undefined;
    const keptLists = resolved.name ? LISTS_WITHOUT_OMITEMPTY[resolved.name] : undefined;
    for (const [key, child] of Object.entries(fields)) {
      const property = target.properties[key];
      if (!property) continue;
      const inner = resolve(definitions, property);
      if (inner && !required.includes(key) && !(inner.name && OPAQUE.test(inner.name))) {
        const isMap = !inner.schema.properties && typeof inner.schema.additionalProperties === 'object';
        const kept = (typeof child === 'string' && pointers?.includes(key)) || (Array.isArray(child) && keptLists?.includes(key)) || (child === null && inner.schema.type === 'array' && keptLists?.includes(key));
        if (!kept && isEmptyValue(child, inner.schema, isMap)) {
          delete fields[key];
          continue;
        }
      }
      walk(definitions, property, child);
    }
  } else if (typeof target.additionalProperties === 'object') {
    for (const child of Object.values(fields)) walk(definitions, target.additionalProperties, child);
  }
}
