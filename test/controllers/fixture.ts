/** A real registry and store with shared informers, for driving one controller's sync by hand. */
import { Registry as MetricsRegistry } from 'prom-client';
import { AdmissionChain, type AdmissionPlugin } from '../../src/admission/admission.js';
import { buildKindSchemas } from '../../src/api/schemas.js';
import { LOOPBACK_USER } from '../../src/auth/system-users.js';
import { InProcessClient } from '../../src/client/in-process.js';
import { NAMESPACES } from '../../src/client/resource-types.js';
import { ControllerManager, type ControllerDefinition } from '../../src/controllers/manager.js';
import { allKinds } from '../../src/registry/catalog.js';
import { Registry } from '../../src/registry/registry.js';
import { Store } from '../../src/storage/store.js';
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

/**
 * Controllers running for real over an in-memory registry and store: the same ControllerManager,
 * informers and in-process client as `serve`, without HTTP. Tests drive them through the client
 * and poll for the outcome.
 */
export interface RunningCluster {
  client: InProcessClient;
  informers: InformerFactory;
  stop(): Promise<void>;
}

export async function runControllers(definitions: readonly ControllerDefinition[], options: { admission?: AdmissionPlugin[]; namespaces?: string[] } = {}): Promise<RunningCluster> {
  const store = new Store();
  const registry = new Registry(allKinds, store, { admission: new AdmissionChain(options.admission ?? []) });
  const client = new InProcessClient({ registry, user: LOOPBACK_USER, fieldManager: 'test', patchSchema: buildKindSchemas(allKinds).patchSchema });
  for (const name of options.namespaces ?? ['default']) await client.create(NAMESPACES, undefined, { metadata: { name } });
  const informers = new InformerFactory(client);
  const manager = new ControllerManager(definitions, { clientFor: (user, fieldManager) => client.as(user, fieldManager), informers, metrics: new MetricsRegistry() });
  await manager.start();
  return {
    client,
    informers,
    async stop() {
      await manager.stop();
      informers.stop();
    },
  };
}

/** Polls until `check` passes (bounded): controllers act asynchronously. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const podTemplate = (labels: Record<string, string>) => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
