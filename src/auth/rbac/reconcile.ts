/**
 * Puts the bootstrap policy in place at every start, as upstream's RBAC post-start hook does:
 * missing roles and bindings are created; existing ones gain the rules, selectors, subjects,
 * labels and annotations they lack, but keep whatever a user added; and a role or binding
 * annotated `rbac.authorization.kubernetes.io/autoupdate: "false"` is left exactly as it is.
 */
import { deepCopy, jsonEqual } from '../../api/object.js';
import type { Registry } from '../../registry/registry.js';
import type { Obj } from '../../registry/strategy.js';
import { RBAC_GROUP } from '../../registry/rbac.js';
import { log } from '../../server/log.js';
import { covers, normalizeRule } from './rules.js';
import { AUTOUPDATE_ANNOTATION, BOOTSTRAP_LABELS, NAMESPACED_POLICY, allClusterRoleBindings, allClusterRoles, type BootstrapBinding, type BootstrapRole } from './bootstrap-policy.js';

const API_VERSION = `${RBAC_GROUP}/v1`;

function metadata(name: string, namespace: string | undefined, labels: Record<string, string> = {}) {
  return { name, ...(namespace ? { namespace } : {}), labels: { ...BOOTSTRAP_LABELS, ...labels }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } };
}

export function roleObject(role: BootstrapRole, kind: 'ClusterRole' | 'Role', namespace?: string): Obj {
  const object: Obj = { apiVersion: API_VERSION, kind, metadata: metadata(role.name, namespace, role.labels) };
  if (role.aggregate) object.aggregationRule = { clusterRoleSelectors: role.aggregate.map((matchLabels) => ({ matchLabels })) };
  else object.rules = structuredClone(role.rules ?? []);
  return object;
}

export function bindingObject(binding: BootstrapBinding, kind: 'ClusterRoleBinding' | 'RoleBinding', namespace?: string): Obj {
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: metadata(binding.name, namespace),
    roleRef: { apiGroup: RBAC_GROUP, kind: binding.roleKind, name: binding.role },
    subjects: binding.subjects.map((s) => (s.kind === 'ServiceAccount' ? { kind: s.kind, name: s.name, namespace: s.namespace } : { kind: s.kind, apiGroup: RBAC_GROUP, name: s.name })),
  };
}

const isProtected = (existing: Obj) => existing.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false';

/** Expected labels and annotations added; the existing values win where both have a key. */
function mergeMetadata(result: Obj, expected: Obj): void {
  result.metadata.labels = { ...expected.metadata.labels, ...result.metadata.labels };
  result.metadata.annotations = { ...expected.metadata.annotations, ...result.metadata.annotations };
}

/** The reconciled role, or undefined when nothing needs to change. */
export function reconcileRole(existing: Obj, expected: Obj): Obj | undefined {
  if (isProtected(existing)) return undefined;
  const result = deepCopy(existing) as Obj;
  mergeMetadata(result, expected);
  const have = (Array.isArray(existing.rules) ? existing.rules : []).map(normalizeRule);
  const { missing } = covers(have, (expected.rules ?? []).map(normalizeRule));
  if (missing.length > 0) result.rules = [...(Array.isArray(result.rules) ? result.rules : []), ...missing];
  if (expected.aggregationRule) {
    const selectors: unknown[] = [...(result.aggregationRule?.clusterRoleSelectors ?? [])];
    for (const selector of expected.aggregationRule.clusterRoleSelectors) if (!selectors.some((s) => jsonEqual(s, selector))) selectors.push(selector);
    result.aggregationRule = { ...(result.aggregationRule ?? {}), clusterRoleSelectors: selectors };
  }
  return jsonEqual(result, existing) ? undefined : result;
}

/** The reconciled binding (with `recreate` when its roleRef must change), or undefined. */
export function reconcileBinding(existing: Obj, expected: Obj): { binding: Obj; recreate: boolean } | undefined {
  if (isProtected(existing)) return undefined;
  const result = deepCopy(existing) as Obj;
  mergeMetadata(result, expected);
  const recreate = !jsonEqual(existing.roleRef, expected.roleRef);
  if (recreate) result.roleRef = expected.roleRef;
  const subjects: Obj[] = [...(Array.isArray(result.subjects) ? result.subjects : [])];
  const same = (a: Obj, b: Obj) => a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');
  for (const subject of expected.subjects) if (!subjects.some((s) => same(s, subject))) subjects.push(subject);
  result.subjects = subjects;
  return jsonEqual(result, existing) ? undefined : { binding: result, recreate };
}

async function ensure(registry: Registry, plural: string, expected: Obj, reconcile: (existing: Obj, expected: Obj) => Obj | { binding: Obj; recreate: boolean } | undefined): Promise<void> {
  const store = registry.of(RBAC_GROUP, plural);
  const namespace = expected.metadata.namespace;
  const name = expected.metadata.name!;
  const existing = store.tryGet(namespace, name);
  if (!existing) {
    await store.create(deepCopy(expected));
    return;
  }
  const outcome = reconcile(existing.object as Obj, expected);
  if (!outcome) return;
  if ('recreate' in outcome) {
    if (outcome.recreate) {
      await store.delete(namespace, name);
      const fresh = deepCopy(outcome.binding);
      delete fresh.metadata.resourceVersion;
      delete fresh.metadata.uid;
      delete fresh.metadata.creationTimestamp;
      await store.create(fresh);
      return;
    }
    await store.update(namespace, name, outcome.binding);
    return;
  }
  await store.update(namespace, name, outcome);
}

/** Creates or reconciles every bootstrap role and binding (the server's own writes: no user, no escalation check). */
export async function reconcileBootstrapPolicy(registry: Registry): Promise<void> {
  let changed = 0;
  const count = async (work: Promise<void>) => {
    const before = registry.of(RBAC_GROUP, 'clusterroles').currentRevision;
    await work;
    if (registry.of(RBAC_GROUP, 'clusterroles').currentRevision !== before) changed++;
  };
  for (const role of allClusterRoles()) await count(ensure(registry, 'clusterroles', roleObject(role, 'ClusterRole'), reconcileRole));
  for (const binding of allClusterRoleBindings()) await count(ensure(registry, 'clusterrolebindings', bindingObject(binding, 'ClusterRoleBinding'), reconcileBinding));
  for (const policy of NAMESPACED_POLICY) {
    if (!registry.of('', 'namespaces').tryGet(undefined, policy.namespace)) continue;
    for (const role of policy.roles) await count(ensure(registry, 'roles', roleObject(role, 'Role', policy.namespace), reconcileRole));
    for (const binding of policy.bindings) await count(ensure(registry, 'rolebindings', bindingObject(binding, 'RoleBinding', policy.namespace), reconcileBinding));
  }
  if (changed > 0) log.info('bootstrap RBAC policy reconciled', { writes: changed });
}
