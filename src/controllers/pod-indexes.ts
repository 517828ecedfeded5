/** The pod informer's index by node, shared by every controller that asks "which pods run on node X". */
import type { SharedInformer } from '../client/informer.js';
import type { Obj } from '../client/api-client.js';

export const PODS_BY_NODE = 'spec.nodeName';

/** Adds the index (idempotent) and returns a lookup of the pods bound to a node. */
export function podsByNode(pods: SharedInformer): (nodeName: string) => Obj[] {
  pods.addIndexer(PODS_BY_NODE, (pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : []));
  return (nodeName) => pods.lister.byIndex(PODS_BY_NODE, nodeName);
}
