/**
 * Creating and deleting pods for a controller (upstream's PodControl), with its events
 * (SuccessfulCreate, FailedCreate, SuccessfulDelete, FailedDelete). Batching is slow-start.ts's.
 */
import { ApiError } from '../api/status.js';
import type { ApiClient, Obj } from '../client/api-client.js';
import type { EventRecorder } from '../client/event-recorder.js';
import { PODS } from '../client/resource-types.js';
import { dns1123SubdomainErrors } from '../registry/common/validation.js';
import type { OwnerReference } from '../api/object.js';

/** The pod a controller creates from its template (controller.GetPodFromTemplate). */
export function podFromTemplate(template: Obj | undefined, owner: Obj, controllerRef: OwnerReference): Obj {
  const metadata = template?.metadata ?? {};
  const prefix = `${owner.metadata.name}-`;
  const pod: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      // A prefix that would make invalid names is used without its dash, as upstream does.
      generateName: dns1123SubdomainErrors(`${prefix}abcde`).length === 0 ? prefix : owner.metadata.name,
      namespace: owner.metadata.namespace,
      labels: { ...(metadata.labels ?? {}) },
      ownerReferences: [controllerRef],
    },
    spec: structuredClone(template?.spec ?? {}),
  };
  if (metadata.annotations && Object.keys(metadata.annotations).length > 0) pod.metadata.annotations = { ...metadata.annotations };
  if (Array.isArray(metadata.finalizers) && metadata.finalizers.length > 0) pod.metadata.finalizers = [...metadata.finalizers];
  return pod;
}

export class PodControl {
  constructor(private readonly client: ApiClient, private readonly events: EventRecorder) {}

  async create(template: Obj | undefined, owner: Obj, controllerRef: OwnerReference): Promise<Obj> {
    try {
      const created = await this.client.create(PODS, owner.metadata.namespace, podFromTemplate(template, owner, controllerRef));
      this.events.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      return created;
    } catch (error) {
      // A namespace being torn down refuses every create; that is not worth an event.
      if (!isNamespaceTerminating(error)) this.events.event(owner, 'Warning', 'FailedCreate', `Error creating: ${(error as Error).message}`);
      throw error;
    }
  }

  /** Deletes a pod the controller owns; a pod already gone counts as deleted. */
  async delete(pod: Obj, owner: Obj): Promise<void> {
    try {
      await this.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      this.events.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (error) {
      if (error instanceof ApiError && (error.code === 404 || (error.code === 409 && /UID in precondition/.test(error.message)))) return;
      this.events.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${(error as Error).message}`);
      throw error;
    }
  }
}

/** Errors a namespace being torn down causes: nothing to retry (upstream's NamespaceTerminatingCause). */
export function isNamespaceTerminating(error: unknown): boolean {
  return error instanceof ApiError && (error.details?.causes ?? []).some((cause) => cause.reason === 'NamespaceTerminating');
}
