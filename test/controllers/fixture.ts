/** A real registry and store with shared informers, for driving one controller's sync by hand. */
import { InformerFactory } from '../../src/client/informer-factory.js';
import { EventRecorder } from '../../src/client/event-recorder.js';
import { EVENTS, PODS, type ResourceType } from '../../src/client/resource-types.js';
import type { ApiClient, Obj } from '../../src/client/api-client.js';
import { inMemoryCluster } from '../client/fixture.js';

export async function controllerCluster(namespaces: string[] = ['default']) {
  const cluster = await inMemoryCluster(namespaces);
  const informers = new InformerFactory(cluster.client);
  const events = new EventRecorder(cluster.client, { component: 'test-controller' });
  return {
    ...cluster,
    informers,
    events,
    /** Starts the informers (after the controller registered the ones it needs) and waits for them. */
    async sync() {
      informers.start();
      await informers.waitForSync();
    },
    async list(type: ResourceType, namespace = 'default', labelSelector?: string): Promise<Obj[]> {
      return (await cluster.client.list(type, namespace, { labelSelector })).items;
    },
    async names(type: ResourceType, namespace = 'default', labelSelector?: string): Promise<string[]> {
      return (await cluster.client.list(type, namespace, { labelSelector })).items.map((o) => o.metadata.name!).sort();
    },
    async reasons(namespace = 'default'): Promise<string[]> {
      await events.flush();
      return (await cluster.client.list(EVENTS, namespace)).items.map((e) => e.reason);
    },
    stop() {
      informers.stop();
    },
  };
}

/** What a kubelet reports for a running pod that passes its readiness checks. */
export async function markRunningReady(client: ApiClient, namespace: string, name: string, at = new Date()): Promise<Obj> {
  return client.mutate(
    PODS,
    namespace,
    name,
    (pod) => {
      pod.status = {
        ...pod.status,
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at.toISOString().replace(/\.\d+Z$/, 'Z') }],
        containerStatuses: (pod.spec.containers as Obj[]).map((c) => ({ name: c.name, image: c.image, imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: at.toISOString() } } })),
      };
      return pod;
    },
    { subresource: 'status' },
  );
}

/** What a kubelet reports once every container exited with `exitCode`. */
export async function markFinished(client: ApiClient, namespace: string, name: string, exitCode: number, at = new Date()): Promise<Obj> {
  return client.mutate(
    PODS,
    namespace,
    name,
    (pod) => {
      const finishedAt = at.toISOString().replace(/\.\d+Z$/, 'Z');
      pod.status = {
        ...pod.status,
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: finishedAt }],
        containerStatuses: (pod.spec.containers as Obj[]).map((c) => ({
          name: c.name,
          image: c.image,
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: finishedAt, finishedAt } },
        })),
      };
      return pod;
    },
    { subresource: 'status' },
  );
}
