/**
 * The shape every controller shares: informer events name keys, a work queue holds them, and
 * workers reconcile each key against the informers' caches once those have synced.
 */
import type { SharedInformer } from '../client/informer.js';
import { objectKey } from '../client/resource-types.js';
import type { Obj } from '../client/api-client.js';
import type { Reconciler, WorkQueue } from '../client/work-queue.js';
import type { ControllerContext, RunningController } from './manager.js';

export interface ReconcilerSpec {
  context: ControllerContext;
  queue: WorkQueue;
  /** Informers whose caches `reconcile` reads; workers start once all have synced. */
  informers: readonly SharedInformer[];
  reconcile: Reconciler;
  /** Registrations to undo on stop (what addEventHandler returned). */
  handlers?: ReadonlyArray<{ remove(): void }>;
  /** Called on stop after the workers finish (e.g. to clear timers). */
  onStop?: () => void;
}

export async function startReconciler(spec: ReconcilerSpec): Promise<RunningController> {
  await Promise.all(spec.informers.map((informer) => informer.start()));
  spec.queue.run(spec.context.workers, spec.reconcile);
  return {
    async stop() {
      for (const handler of spec.handlers ?? []) handler.remove();
      await spec.queue.shutDown();
      spec.onStop?.();
    },
  };
}

/** The work-queue key of an object: "namespace/name", or "name" when cluster-scoped. */
export function keyOf(object: Obj): string {
  return objectKey(object.metadata.namespace, object.metadata.name ?? '');
}

/** The owner reference with `controller: true`, if any (metav1.GetControllerOf). */
export function controllerOf(object: Obj): { apiVersion: string; kind: string; name: string; uid: string } | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller === true);
}
