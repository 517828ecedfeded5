/**
 * The autoscaling/v1 Scale view of any kind with a scale subresource (built-in workloads and
 * custom resources alike), read and written through the kind's declared paths. Shared by the
 * REST /scale handler and the in-process client.
 */
import { getPath, isPlainObject } from '../api/object.js';
import { errors, fieldErrors } from '../api/status.js';
import { formatLabelSelector } from './common/printing.js';
import type { KindStrategy, Obj } from './strategy.js';
import { isCustomResource } from '../apiextensions/custom-resource-strategy.js';

export function toScale(strategy: KindStrategy, object: Obj): Obj {
  const scale = strategy.scale!;
  // Built-in workloads carry a structured spec.selector; a custom resource names where its text is.
  const selector = isCustomResource(strategy) ? (scale.labelSelectorPath ? getPath(object, scale.labelSelectorPath) : undefined) : getPath(object, 'spec.selector');
  const status: Record<string, unknown> = { replicas: getPath(object, scale.statusReplicasPath) ?? 0 };
  const selectorText = isPlainObject(selector) ? formatLabelSelector(selector) : typeof selector === 'string' ? selector : undefined;
  if (selectorText && selectorText !== '<none>') status.selector = selectorText;
  const meta = object.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion, creationTimestamp: meta.creationTimestamp },
    spec: { replicas: getPath(object, scale.specReplicasPath) ?? 0 },
    status,
  };
}

function setPath(object: Obj, path: string, value: unknown): void {
  const parts = path.split('.');
  let current: Record<string, unknown> = object;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(current[part])) current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts[parts.length - 1]] = value;
}

/** Checks the Scale's replicas and writes them into the object (which the caller then stores). */
export function applyScale(strategy: KindStrategy, object: Obj, replicas: unknown, name: string): Obj {
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw errors.invalid('Scale', 'autoscaling', name, [fieldErrors.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
  }
  setPath(object, strategy.scale!.specReplicasPath, replicas);
  return object;
}
