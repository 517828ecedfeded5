/**
 * The RBAC authorizer (upstream's plugin/pkg/auth/authorizer/rbac) over shared informers:
 * bindings are indexed by subject, so a request looks only at the bindings naming its user or
 * one of its groups, and compiled rules are cached per stored role version. It allows or has
 * no opinion; it never denies outright, as upstream.
 */
import type { InformerFactory } from '../../client/informer-factory.js';
import type { SharedInformer } from '../../client/informer.js';
import { CLUSTER_ROLES, CLUSTER_ROLE_BINDINGS, ROLES, ROLE_BINDINGS } from '../../client/resource-types.js';
import type { Obj } from '../../registry/strategy.js';
import type { UserInfo } from '../authenticate.js';
import { NO_OPINION, type AuthorizationAttributes, type Authorizer, type Decision, type RuleResolver, type UserRules } from '../authorization.js';
import { compiledRulesOf, normalizeRule, rulesAllow, type PolicyRule } from './rules.js';

const SUBJECT_INDEX = 'rbac-subject';
const SA_PREFIX = 'system:serviceaccount:';

/** Index keys of a binding's subjects: "u:<user>" / "g:<group>", a service account as its user name; role bindings prefixed by namespace. */
function subjectKeys(binding: Obj): string[] {
  const namespace = binding.metadata.namespace;
  const keys: string[] = [];
  for (const subject of Array.isArray(binding.subjects) ? binding.subjects : []) {
    const key = subjectKey(subject, namespace);
    if (key) keys.push(namespace ? `${namespace}|${key}` : key);
  }
  return keys;
}

function subjectKey(subject: Obj, bindingNamespace: string | undefined): string | undefined {
  if (typeof subject?.name !== 'string') return undefined;
  switch (subject.kind) {
    case 'User':
      return `u:${subject.name}`;
    case 'Group':
      return `g:${subject.name}`;
    case 'ServiceAccount': {
      // A role binding's service account defaults to the binding's namespace (upstream appliesToUser).
      const namespace = subject.namespace || bindingNamespace;
      return namespace ? `u:${SA_PREFIX}${namespace}:${subject.name}` : undefined;
    }
    default:
      return undefined;
  }
}

function describeSubject(subject: Obj, bindingNamespace: string | undefined): string {
  if (subject.kind === 'ServiceAccount') return `${subject.kind} ${JSON.stringify(`${subject.namespace || bindingNamespace}/${subject.name}`)}`;
  return `${subject.kind} ${JSON.stringify(subject.name)}`;
}

const keysByUser = new WeakMap<UserInfo, string[]>();

/** A user's index keys; cached per user object (a connection's or a component's identity is reused). */
function userKeys(user: UserInfo): string[] {
  let keys = keysByUser.get(user);
  if (!keys) {
    keys = [`u:${user.name}`, ...user.groups.map((g) => `g:${g}`)];
    keysByUser.set(user, keys);
  }
  return keys;
}

/** One rule source a visit reports: the binding, its role, and the subject that matched. */
interface RuleSource {
  binding: Obj;
  role?: Obj;
  error?: string;
}

export class RbacAuthorizer implements Authorizer, RuleResolver {
  private readonly clusterRoles: SharedInformer;
  private readonly roles: SharedInformer;
  private readonly clusterRoleBindings: SharedInformer;
  private readonly roleBindings: SharedInformer;

  constructor(informers: InformerFactory) {
    this.clusterRoles = informers.informer(CLUSTER_ROLES);
    this.roles = informers.informer(ROLES);
    this.clusterRoleBindings = informers.informer(CLUSTER_ROLE_BINDINGS);
    this.roleBindings = informers.informer(ROLE_BINDINGS);
    this.clusterRoleBindings.addIndexer(SUBJECT_INDEX, subjectKeys);
    this.roleBindings.addIndexer(SUBJECT_INDEX, subjectKeys);
  }

  /** Resolves once the four caches hold their first lists. */
  async start(): Promise<void> {
    await Promise.all([this.clusterRoles, this.roles, this.clusterRoleBindings, this.roleBindings].map((informer) => informer.start()));
  }

  get hasSynced(): boolean {
    return this.clusterRoles.hasSynced && this.roles.hasSynced && this.clusterRoleBindings.hasSynced && this.roleBindings.hasSynced;
  }

  authorize(attributes: AuthorizationAttributes): Decision {
    // The hot path (every request): plain loops over the index, nothing allocated until a decision.
    const user = attributes.user;
    const keys = userKeys(user);
    let errors: string[] | undefined;
    for (const key of keys) {
      for (const binding of this.clusterRoleBindings.lister.byIndex(SUBJECT_INDEX, key)) {
        const role = this.clusterRoles.lister.get(undefined, binding.roleRef?.name ?? '');
        if (!role) (errors ??= []).push(this.roleFor(binding.roleRef, undefined).error!);
        else if (rulesAllow(attributes, compiledRulesOf(role))) return this.allowedBy(binding, user);
      }
    }
    const namespace = attributes.namespace;
    if (namespace) {
      for (const key of keys) {
        for (const binding of this.roleBindings.lister.byIndex(SUBJECT_INDEX, `${namespace}|${key}`)) {
          const ref = binding.roleRef;
          const role = ref?.kind === 'Role' ? this.roles.lister.get(namespace, ref.name ?? '') : ref?.kind === 'ClusterRole' ? this.clusterRoles.lister.get(undefined, ref.name ?? '') : undefined;
          if (!role) (errors ??= []).push(this.roleFor(ref, namespace).error!);
          else if (rulesAllow(attributes, compiledRulesOf(role))) return this.allowedBy(binding, user);
        }
      }
    }
    return errors ? { allowed: false, noOpinion: true, reason: `RBAC: ${[...new Set(errors)].join(', ')}` } : NO_OPINION;
  }

  private allowedBy(binding: Obj, user: UserInfo): Decision {
    return new Allowed(binding, user);
  }

  /** Every rule the user holds in `namespace` ("" = cluster-wide bindings only), for escalation checks. */
  policyRulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visit(user, namespace, (source) => {
      if (source.error) errors.push(source.error);
      else for (const rule of Array.isArray(source.role!.rules) ? source.role!.rules : []) rules.push(normalizeRule(rule));
      return true;
    });
    return { rules, errors };
  }

  rulesFor(user: UserInfo, namespace: string): UserRules {
    const { rules, errors } = this.policyRulesFor(user, namespace);
    const result: UserRules = { resourceRules: [], nonResourceRules: [], incomplete: errors.length > 0, errors };
    for (const rule of rules) {
      if ((rule.nonResourceURLs ?? []).length > 0) result.nonResourceRules.push({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs! });
      else {
        const info = { verbs: rule.verbs, apiGroups: rule.apiGroups ?? [], resources: rule.resources ?? [], ...(rule.resourceNames?.length ? { resourceNames: rule.resourceNames } : {}) };
        result.resourceRules.push(info);
      }
    }
    return result;
  }

  /** The role a binding refers to (upstream's GetRoleReferenceRules), or why it cannot be found. */
  roleFor(roleRef: Obj | undefined, namespace: string | undefined): { role?: Obj; error?: string } {
    const name = roleRef?.name ?? '';
    if (roleRef?.kind === 'ClusterRole') {
      const role = this.clusterRoles.lister.get(undefined, name);
      return role ? { role } : { error: `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(name)} not found` };
    }
    if (roleRef?.kind === 'Role' && namespace) {
      const role = this.roles.lister.get(namespace, name);
      return role ? { role } : { error: `role.rbac.authorization.k8s.io ${JSON.stringify(name)} not found` };
    }
    return { error: `unsupported role reference kind: ${JSON.stringify(roleRef?.kind ?? '')}` };
  }

  /** Calls `visitor` for each rule source that applies to the user, cluster bindings first; stops when it returns false. */
  private visit(user: UserInfo, namespace: string, visitor: (source: RuleSource) => boolean): void {
    const keys = userKeys(user);
    const seen = new Set<Obj>();
    for (const key of keys) {
      for (const binding of this.clusterRoleBindings.lister.byIndex(SUBJECT_INDEX, key)) {
        if (seen.has(binding)) continue;
        seen.add(binding);
        if (!visitor({ binding, ...this.roleFor(binding.roleRef, undefined) })) return;
      }
    }
    if (!namespace) return;
    for (const key of keys) {
      for (const binding of this.roleBindings.lister.byIndex(SUBJECT_INDEX, `${namespace}|${key}`)) {
        if (seen.has(binding)) continue;
        seen.add(binding);
        if (!visitor({ binding, ...this.roleFor(binding.roleRef, namespace) })) return;
      }
    }
  }
}

/** An allow whose reason (upstream's wording) is worked out only when someone reads it. */
class Allowed implements Decision {
  readonly allowed = true;
  private text?: string;

  constructor(private readonly binding: Obj, private readonly user: UserInfo) {}

  get reason(): string {
    return (this.text ??= `RBAC: allowed by ${describeBinding(this.binding, this.user)}`);
  }

  toJSON(): Decision {
    return { allowed: true, reason: this.reason };
  }
}

function describeBinding(binding: Obj, user: UserInfo): string {
  const namespace = binding.metadata.namespace;
  const keys = new Set(userKeys(user));
  const subject = ((binding.subjects as Obj[]).find((s) => keys.has(subjectKey(s, namespace) ?? '')) ?? {}) as Obj;
  const role = `${binding.roleRef?.kind} ${JSON.stringify(binding.roleRef?.name)}`;
  if (namespace) return `RoleBinding ${JSON.stringify(`${binding.metadata.name}/${namespace}`)} of ${role} to ${describeSubject(subject, namespace)}`;
  return `ClusterRoleBinding ${JSON.stringify(binding.metadata.name)} of ${role} to ${describeSubject(subject, undefined)}`;
}
