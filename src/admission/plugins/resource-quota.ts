/**
 * ResourceQuota admission (upstream's plugin/pkg/admission/resourcequota): a create (or an
 * update that grows usage) is checked against every quota of its namespace whose scopes cover
 * it. The quota's status.used plus what the request adds must stay within spec.hard, otherwise
 * upstream's "exceeded quota: …, requested: …, used: …, limited: …" refuses it. An admitted
 * request is charged at once by writing the quota's status (compare-and-swap on its
 * resourceVersion, re-evaluated on conflict), so concurrent creates cannot both take the last
 * unit; the resource-quota controller later recounts from what really exists.
 */
import { ApiError } from '../../api/status.js';
import type { Registry } from '../../registry/registry.js';
import type { Obj } from '../../registry/strategy.js';
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from '../admission.js';
import { add, compare, format, quantity, subtract, ZERO, type Quantity } from '../quantity.js';
import { inScope, podConstraintViolation, tracks, usageOf, type Usage } from '../resource-quota/usage.js';

const MAX_ATTEMPTS = 8;
/** Kinds whose updates can change usage (resizes, Service type changes); other kinds are charged on create only. */
const CHARGED_ON_UPDATE = new Set(['/pods', '/persistentvolumeclaims', '/services']);

function prettyPrint(entries: ReadonlyArray<[string, Quantity]>): string {
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, value]) => `${name}=${format(value)}`).join(',');
}

/** What the request adds: the new object's usage, less the old one's on update (only increases count). */
function requestedDelta(attributes: AdmissionAttributes): Usage {
  const { group, resource } = attributes.resource;
  const usage = usageOf(group, resource, attributes.object!);
  if (attributes.operation !== 'UPDATE' || !attributes.oldObject) return usage;
  const old = usageOf(group, resource, attributes.oldObject);
  const delta: Usage = new Map();
  for (const [name, value] of usage) {
    const grown = subtract(value, old.get(name) ?? ZERO);
    if (compare(grown, ZERO) > 0) delta.set(name, grown);
  }
  return delta;
}

interface Charge {
  quota: Obj;
  /** status.used after this request, for the resources the request uses. */
  newUsed: Map<string, Quantity>;
}

/** Checks one quota; returns the charge to record, undefined when the quota does not limit this request. */
function evaluateQuota(attributes: AdmissionAttributes, quota: Obj, delta: Usage): Charge | undefined {
  const { group, resource } = attributes.resource;
  const object = attributes.object!;
  if (!inScope(quota, group, resource, object)) return undefined;
  const hard: Record<string, unknown> = quota.spec?.hard ?? {};
  const limited = Object.keys(hard).filter((name) => tracks(group, resource, name));
  if (limited.length === 0) return undefined;
  const forbidden = (message: string) => admissionForbidden(attributes, message);
  if (group === '' && resource === 'pods' && attributes.operation === 'CREATE') {
    const violation = podConstraintViolation(object, limited);
    if (violation) throw forbidden(`failed quota: ${quota.metadata.name}: ${violation}`);
  }
  const requested = limited.filter((n) => delta.has(n) && compare(delta.get(n)!, ZERO) !== 0);
  if (requested.length === 0) return undefined;
  const used: Record<string, unknown> = quota.status?.used ?? {};
  const unknown = requested.filter((n) => !(n in used)).sort();
  if (unknown.length > 0) throw forbidden(`status unknown for quota: ${quota.metadata.name}, resources: ${unknown.join(',')}`);
  const newUsed = new Map<string, Quantity>();
  const failed: string[] = [];
  for (const n of requested) {
    const total = add(quantity(used[n]), delta.get(n)!);
    newUsed.set(n, total);
    if (compare(total, quantity(hard[n])) > 0) failed.push(n);
  }
  if (failed.length > 0) {
    throw forbidden(
      `exceeded quota: ${quota.metadata.name}, requested: ${prettyPrint(failed.map((n) => [n, delta.get(n)!]))}, used: ${prettyPrint(failed.map((n) => [n, quantity(used[n])]))}, limited: ${prettyPrint(failed.map((n) => [n, quantity(hard[n])]))}`,
    );
  }
  return { quota, newUsed };
}

export function resourceQuota(registry: () => Registry): AdmissionPlugin {
  return {
    name: 'ResourceQuota',
    async validate(attributes) {
      if (!attributes.object || !attributes.namespace || attributes.subresource) return;
      if (attributes.operation !== 'CREATE' && !(attributes.operation === 'UPDATE' && CHARGED_ON_UPDATE.has(`${attributes.resource.group}/${attributes.resource.resource}`))) return;
      const quotas = registry().of('', 'resourcequotas');
      if (attributes.resource.group === '' && attributes.resource.resource === 'resourcequotas' && attributes.operation === 'UPDATE') return;
      // Most namespaces have no quota: find that out before costing the object.
      if (quotas.list(attributes.namespace, { limit: 1 }).items.length === 0) return;
      const delta = requestedDelta(attributes);
      if (delta.size === 0) return;
      const charged = new Set<string>();
      for (let attempt = 1; ; attempt++) {
        const pending = quotas.list(attributes.namespace, {}).items.map((item) => item.object as Obj).filter((quota) => !charged.has(quota.metadata.name!));
        const charges = pending.map((quota) => evaluateQuota(attributes, quota, delta)).filter((c): c is Charge => !!c);
        if (charges.length === 0 || attributes.dryRun) return;
        try {
          for (const charge of charges) {
            const updated = structuredClone(charge.quota);
            updated.status = { ...(updated.status ?? {}), used: { ...(updated.status?.used ?? {}) } };
            for (const [n, value] of charge.newUsed) updated.status.used[n] = format(value);
            await quotas.update(attributes.namespace, charge.quota.metadata.name!, updated, { subresource: 'status' });
            charged.add(charge.quota.metadata.name!);
          }
          return;
        } catch (error) {
          // Someone charged (or recounted) the same quota meanwhile: evaluate the rest again on fresh state.
          if (!(error instanceof ApiError && error.code === 409) || attempt >= MAX_ATTEMPTS) throw error;
        }
      }
    },
  };
}
