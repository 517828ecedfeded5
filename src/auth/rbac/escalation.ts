/**
 * Privilege-escalation prevention on RBAC writes (upstream's policy-based role and binding
 * storage): a Role or ClusterRole may only be written by someone who already holds every rule in
 * it (or may `escalate` it); a binding only by someone who holds every rule of the role it binds
 * (or may `bind` it). Members of system:masters are exempt, as upstream.
 */
import { errors } from '../../api/status.js';
import { jsonEqual } from '../../api/object.js';
import type { AdmissionAttributes } from '../../admission/admission.js';
import type { Obj } from '../../registry/strategy.js';
import { RBAC_GROUP } from '../../registry/rbac.js';
import type { UserInfo } from '../authenticate.js';
import type { Authorizer } from '../authorization.js';
import type { RbacAuthorizer } from './authorizer.js';
import { compactRules, compactString, covers, goQuotedList, normalizeRule, type PolicyRule } from './rules.js';

const PRIVILEGED_GROUP = 'system:masters';
const FULL_AUTHORITY: PolicyRule[] = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }];

/** A write that changes nothing but what the garbage collector needs (owner references, finalizers). */
function onlyGcFields(object: Obj | undefined, old: Obj | undefined): boolean {
  if (!object || !old) return false;
  const strip = (o: Obj) => ({ ...o, metadata: { ...o.metadata, ownerReferences: undefined, finalizers: undefined, managedFields: undefined, resourceVersion: undefined } });
  return jsonEqual(strip(object), strip(old));
}

export class EscalationCheck {
  constructor(
    private readonly rbac: RbacAuthorizer,
    /** The whole authorizer chain, asked for `escalate` and `bind`. */
    private readonly authorizer: Authorizer,
  ) {}

  /** Throws 403 Forbidden when the write would grant more than its author holds. */
  check(attributes: AdmissionAttributes): void {
    const user = attributes.user;
    if (!user || attributes.resource.group !== RBAC_GROUP || attributes.operation === 'DELETE') return;
    if (user.groups.includes(PRIVILEGED_GROUP)) return;
    if (attributes.operation === 'UPDATE' && onlyGcFields(attributes.object, attributes.oldObject)) return;
    const object = attributes.object!;
    switch (attributes.resource.resource) {
      case 'roles':
      case 'clusterroles':
        return this.checkRole(attributes, user, object);
      case 'rolebindings':
      case 'clusterrolebindings':
        return this.checkBinding(attributes, user, object);
    }
  }

  private checkRole(attributes: AdmissionAttributes, user: UserInfo, role: Obj): void {
    const resource = attributes.resource.resource;
    const namespace = attributes.namespace ?? '';
    // As upstream, `escalate` is asked with the request's name: none on create.
    const name = attributes.operation === 'CREATE' ? undefined : attributes.name;
    if (this.authorizer.authorize({ user, verb: 'escalate', isResourceRequest: true, group: RBAC_GROUP, resource, namespace: namespace || undefined, name }).allowed) return;
    const rules = (Array.isArray(role.rules) ? role.rules : []).map(normalizeRule);
    this.confirmNoEscalation(user, namespace, rules, resource, role.metadata.name ?? '');
    if (resource === 'clusterroles' && (role.aggregationRule || attributes.oldObject?.aggregationRule)) {
      // An aggregation rule can gather anything, so it takes cluster-admin to set or change.
      if (!covers(this.rbac.policyRulesFor(user, namespace).rules, FULL_AUTHORITY).covered) {
        throw errors.forbidden(`${resource}.${RBAC_GROUP} ${JSON.stringify(role.metadata.name ?? '')} is forbidden: must have cluster-admin privileges to use the aggregationRule`, { name: role.metadata.name, group: RBAC_GROUP, kind: resource });
      }
    }
  }

  private checkBinding(attributes: AdmissionAttributes, user: UserInfo, binding: Obj): void {
    const resource = attributes.resource.resource;
    const namespace = attributes.namespace ?? '';
    const roleRef = binding.roleRef ?? {};
    const roleResource = roleRef.kind === 'Role' ? 'roles' : 'clusterroles';
    if (this.authorizer.authorize({ user, verb: 'bind', isResourceRequest: true, group: RBAC_GROUP, resource: roleResource, namespace: namespace || undefined, name: roleRef.name }).allowed) return;
    const { role } = this.rbac.roleFor(roleRef, namespace || undefined);
    if (!role) throw errors.notFound({ group: RBAC_GROUP, resource: roleResource }, String(roleRef.name ?? ''));
    const rules = (Array.isArray(role.rules) ? role.rules : []).map(normalizeRule);
    this.confirmNoEscalation(user, namespace, rules, resource, binding.metadata.name ?? '');
  }

  /** Upstream's ConfirmNoEscalation, with its message listing the missing rules. */
  private confirmNoEscalation(user: UserInfo, namespace: string, rules: PolicyRule[], resource: string, name: string): void {
    const owned = this.rbac.policyRulesFor(user, namespace);
    const { covered, missing } = covers(owned.rules, rules);
    if (covered) return;
    const descriptions = [...new Set(compactRules(missing).map(compactString))].sort();
    let message = `user ${JSON.stringify(user.name)} (groups=${goQuotedList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
    if (owned.errors.length > 0) message += `; resolution errors: [${owned.errors.join(' ')}]`;
    throw errors.forbidden(`${resource}.${RBAC_GROUP} ${JSON.stringify(name)} is forbidden: ${message}`, { name, group: RBAC_GROUP, kind: resource });
  }
}
