/**
 * ImageLocality (Score): prefers nodes that already hold the pod's images, each image's size
 * scaled by the share of nodes holding it (so a ubiquitous image does not attract every pod),
 * between 23 MB and 1,000 MB per container.
 */
import type { Snapshot } from '../snapshot.js';
import { MAX_NODE_SCORE, status, type Plugin, type Pod } from '../types.js';

export const NAME = 'ImageLocality';
const STATE_KEY = 'PreScore' + NAME;
const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** "nginx" → "nginx:latest": a reference without tag or digest means :latest. */
export function normalizedImageName(name: string): string {
  const lastSlash = name.lastIndexOf('/');
  if (name.includes('@') || name.slice(lastSlash + 1).includes(':')) return name;
  return `${name}:latest`;
}

interface PodImages {
  /** The pod's containers' images (init containers too), normalized; undefined for an imageless container. */
  names: Array<string | undefined>;
  totalNodes: number;
}

function podImagesOf(pod: Pod, snapshot: Snapshot): PodImages {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])] as Array<{ image?: string }>;
  return { names: containers.map((container) => (container.image ? normalizedImageName(container.image) : undefined)), totalNodes: Math.max(1, snapshot.numNodes) };
}

/**
 * PreScore (not upstream's, which scores every node) skips the plugin when no node holds any of
 * the pod's images: every node would score 0 then, so the result is the same without the walk.
 */
export function imageLocality(snapshot: () => Snapshot): Plugin {
  return {
    name: NAME,
    preScore(state, pod: Pod) {
      const current = snapshot();
      const podImages = podImagesOf(pod, current);
      if (!podImages.names.some((name) => name !== undefined && current.images.has(name))) return status.skip();
      state.write(STATE_KEY, podImages);
      return undefined;
    },
    score(state, pod, nodeInfo) {
      // A profile may disable the PreScore point alone: then Score works it out itself.
      const { names, totalNodes } = state.read<PodImages>(STATE_KEY) ?? podImagesOf(pod, snapshot());
      if (nodeInfo.imageStates.size === 0) return 0;
      let sum = 0;
      for (const name of names) {
        const image = name === undefined ? undefined : nodeInfo.imageStates.get(name);
        if (image) sum += image.size * (image.numNodes / totalNodes);
      }
      const max = MAX_CONTAINER_THRESHOLD * names.length;
      const clamped = Math.min(Math.max(sum, MIN_THRESHOLD), max);
      return Math.trunc((MAX_NODE_SCORE * (clamped - MIN_THRESHOLD)) / (max - MIN_THRESHOLD));
    },
  };
}
