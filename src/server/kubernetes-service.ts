/**
 * The `kubernetes` Service in `default` and its Endpoints, kept as upstream's bootstrap controller
 * keeps them: created at start, recreated when deleted, and the Endpoints put back to this API
 * server's address when someone changes them. It reacts to the informers' events and, as
 * upstream's reconciler does, also checks on a timer (every 10 s) in case an event was missed.
 */
import { ApiError } from '../api/status.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import type { InformerFactory } from '../client/informer-factory.js';
import { ENDPOINTS, SERVICES } from '../client/resource-types.js';
import { log } from './log.js';

export const KUBERNETES_SERVICE_IP = '10.96.0.1';
const NAME = 'kubernetes';
const NAMESPACE = 'default';
/** Upstream's --endpoint-reconciler interval. */
const RECONCILE_EVERY_MS = 10_000;

export interface KubernetesServiceOptions {
  client: ApiClient;
  informers: InformerFactory;
  /** The address other clients reach this server at (an IPv4 address; otherwise 127.0.0.1). */
  advertisedAddress: string;
  port: number;
}

export function kubernetesService(port: number): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: NAME, namespace: NAMESPACE, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: KUBERNETES_SERVICE_IP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None' },
  };
}

export function kubernetesEndpoints(advertisedAddress: string, port: number): Obj {
  const ip = /^\d+\.\d+\.\d+\.\d+$/.test(advertisedAddress) ? advertisedAddress : '127.0.0.1';
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: NAME, namespace: NAMESPACE, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  };
}

const isOurs = (object: Obj) => object.metadata?.namespace === NAMESPACE && object.metadata?.name === NAME;
const tolerated = (error: unknown, ...codes: number[]) => error instanceof ApiError && codes.includes(error.code);

export async function startKubernetesService(options: KubernetesServiceOptions): Promise<{ stop(): void }> {
  const { client, informers } = options;
  const services = informers.informer(SERVICES);
  const endpoints = informers.informer(ENDPOINTS);
  const wantedEndpoints = kubernetesEndpoints(options.advertisedAddress, options.port);
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  async function reconcile(): Promise<void> {
    if (!services.lister.get(NAMESPACE, NAME)) {
      try {
        await client.create(SERVICES, NAMESPACE, kubernetesService(options.port));
      } catch (error) {
        if (!tolerated(error, 409)) throw error;
      }
    }
    const current = endpoints.lister.get(NAMESPACE, NAME);
    if (!current) {
      try {
        await client.create(ENDPOINTS, NAMESPACE, wantedEndpoints);
      } catch (error) {
        if (!tolerated(error, 409)) throw error;
      }
    } else if (JSON.stringify(current.subsets ?? []) !== JSON.stringify(wantedEndpoints.subsets)) {
      try {
        await client.mutate(ENDPOINTS, NAMESPACE, NAME, (live) => ({ ...live, subsets: wantedEndpoints.subsets }));
      } catch (error) {
        if (!tolerated(error, 404, 409)) throw error;
      }
    }
  }

  /** One reconcile at a time; a request during one runs another after it. */
  function trigger(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = reconcile()
      .catch((error) => log.warn('could not reconcile the kubernetes service', { error: String(error) }))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          trigger();
        }
      });
  }

  const handlers = {
    onUpdate: (_old: Obj, object: Obj) => isOurs(object) && trigger(),
    onDelete: (object: Obj) => isOurs(object) && trigger(),
  };
  const registrations = [services.addEventHandler(handlers), endpoints.addEventHandler(handlers)];
  await Promise.all([services.start(), endpoints.start()]);
  trigger();
  await running;
  const timer = setInterval(trigger, RECONCILE_EVERY_MS);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      for (const registration of registrations) registration.remove();
    },
  };
}
