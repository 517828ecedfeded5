/**
 * ImageLocality (Score): prefers nodes that already hold the pod's images, each image's size
 * scaled by the share of nodes holding it (so a ubiquitous image does not attract every pod),
 * between 23 MB and 1,000 MB per container.
 */
import { MAX_NODE_SCORE, type Plugin, type Pod } from '../types.js';

export const NAME = 'ImageLocality';
const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** "nginx" → "nginx:latest": a reference without tag or digest means :latest. */
export function normalizedImageName(name: string): string {
  const lastSlash = name.lastIndexOf('/');
  if (name.includes('@') || name.slice(lastSlash + 1).includes(':')) return name;
  return `${name}:latest`;
}

export function imageLocality(numNodes: () => number): Plugin {
  return {
    name: NAME,
    score(_state, pod: Pod, nodeInfo) {
      if (nodeInfo.imageStates.size === 0) return 0;
      const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])] as Array<{ image?: string }>;
      const total = Math.max(1, numNodes());
      let sum = 0;
      for (const container of containers) {
        if (!container.image) continue;
        const state = nodeInfo.imageStates.get(normalizedImageName(container.image));
        if (state) sum += state.size * (state.numNodes / total);
      }
      const max = MAX_CONTAINER_THRESHOLD * containers.length;
      const clamped = Math.min(Math.max(sum, MIN_THRESHOLD), max);
      return Math.trunc((MAX_NODE_SCORE * (clamped - MIN_THRESHOLD)) / (max - MIN_THRESHOLD));
    },
  };
}
