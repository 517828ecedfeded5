/**
 * pods/binding: assigns a pod to a node, once (what a scheduler posts). The REST handler and the
 * in-process client both come here.
 */
import { errors, fieldErrors } from '../api/status.js';
import { nowRfc3339 } from '../api/object.js';
import type { GenericStore } from './generic-store.js';
import type { Obj } from './strategy.js';
import type { UserInfo } from '../auth/authenticate.js';

export interface BindOptions {
  dryRun?: boolean;
  fieldManager?: string;
  user?: UserInfo;
}

export async function bindPod(pods: GenericStore, namespace: string | undefined, name: string, binding: Obj, options: BindOptions = {}): Promise<void> {
  const target = binding.target as { kind?: string; name?: string } | undefined;
  if (!target?.name) throw errors.invalid('Binding', '', name, [fieldErrors.required('target.name')]);
  if (target.kind && target.kind !== 'Node') throw errors.invalid('Binding', '', name, [fieldErrors.notSupported('target.kind', target.kind, ['Node'])]);
  await pods.guaranteedUpdate(
    namespace,
    name,
    (pod) => {
      if (pod.metadata.deletionTimestamp) throw errors.conflict(pods.ref, name, 'pod is being deleted, cannot be assigned to a host');
      if (pod.spec?.nodeName) throw errors.conflict(pods.ref, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      pod.spec.nodeName = target.name;
      const annotations = binding.metadata?.annotations;
      if (annotations && Object.keys(annotations).length > 0) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...annotations };
      const conditions: Obj[] = (pod.status ??= {}).conditions ?? [];
      pod.status.conditions = [...conditions.filter((c) => c.type !== 'PodScheduled'), { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowRfc3339() }];
      return pod;
    },
    // Upstream's BindingREST writes storage directly: the binding leaves managedFields as they were.
    { dryRun: options.dryRun, subresource: 'binding', fieldManager: options.fieldManager, user: options.user, managedFieldsComputed: true },
  );
}
