/**
 * The cluster role aggregation controller (upstream's clusterroleaggregation): a ClusterRole with
 * an aggregationRule gets, as its rules, the rules of every other ClusterRole its selectors
 * match, kept up to date as those change. This is how admin, edit and view grow when a
 * ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"` appears.
 */
import { jsonEqual } from '../api/object.js';
import { selectorFromSpec } from '../api/selectors.js';
import { CLUSTER_ROLES } from '../client/resource-types.js';
import type { Obj } from '../client/api-client.js';
import type { ControllerDefinition } from './manager.js';
import { startReconciler } from './reconciler.js';

export const clusterRoleAggregationController: ControllerDefinition = {
  name: 'clusterrole-aggregation-controller',
  aliases: ['clusterrole-aggregation'],
  serviceAccount: 'clusterrole-aggregation-controller',
  start(context) {
    const roles = context.informers.informer(CLUSTER_ROLES);
    const queue = context.newQueue('ClusterRoleAggregator');
    // Any role may be selected by any aggregated role: every change looks at all of those.
    const enqueueAggregated = () => {
      for (const role of roles.lister.list()) if (role.aggregationRule) queue.add(role.metadata.name!);
    };
    const handlers = [roles.addEventHandler({ onAdd: enqueueAggregated, onUpdate: enqueueAggregated, onDelete: enqueueAggregated })];

    async function reconcile(name: string) {
      const role = roles.lister.get(undefined, name);
      if (!role?.aggregationRule) return;
      const rules: unknown[] = [];
      for (const selector of role.aggregationRule.clusterRoleSelectors ?? []) {
        const matched = roles.lister.list(undefined, selectorFromSpec(selector)).filter((other) => other.metadata.name !== name);
        matched.sort((a: Obj, b: Obj) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
        for (const other of matched) for (const rule of other.rules ?? []) if (!rules.some((r) => jsonEqual(r, rule))) rules.push(rule);
      }
      if (jsonEqual(role.rules ?? [], rules)) return;
      await context.client.mutate(CLUSTER_ROLES, undefined, name, (current) => {
        current.rules = rules;
        return current;
      });
    }

    return startReconciler({ context, queue, informers: [roles], reconcile, handlers });
  },
};
