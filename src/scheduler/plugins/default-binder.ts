/** DefaultBinder (Bind): posts a Binding to the pod's binding subresource, as any client would. */
import type { ApiClient } from '../../client/api-client.js';
import { PODS } from '../../client/resource-types.js';
import { status, type Plugin } from '../types.js';

export const NAME = 'DefaultBinder';

export function defaultBinder(client: ApiClient): Plugin {
  return {
    name: NAME,
    async bind(_state, pod, nodeName) {
      const { namespace, name, uid } = pod.metadata;
      try {
        await client.createSubresource(PODS, namespace, name!, 'binding', {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace, uid },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        });
        return undefined;
      } catch (error) {
        return status.error(`binding rejected: ${(error as Error).message}`);
      }
    },
  };
}
