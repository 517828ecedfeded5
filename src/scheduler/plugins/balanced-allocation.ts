/**
 * NodeResourcesBalancedAllocation (Score): prefers nodes whose cpu and memory (or the configured
 * resources) would be used in equal fractions with the pod: score = (1 − standard deviation of the
 * fractions) × 100.
 */
import { NodeInfo, podInfoOf } from '../node-info.js';
import { MAX_NODE_SCORE, status, type Plugin } from '../types.js';
import { DEFAULT_RESOURCES, requestedAndAllocatable, type ResourceSpec } from './node-resources-fit.js';

export const NAME = 'NodeResourcesBalancedAllocation';

export interface BalancedAllocationArgs {
  resources?: ResourceSpec[];
}

export function balancedAllocation(args: BalancedAllocationArgs = {}): Plugin {
  const resources = (args.resources?.length ? args.resources : DEFAULT_RESOURCES).map((r) => r.name);
  return {
    name: NAME,
    preScore(_state, pod) {
      // A pod that requests none of the resources changes no balance.
      const info = podInfoOf(pod);
      const requestsAny = resources.some((name) => requestedAndAllocatable(info, emptyNode, name, false)[0] > 0);
      return requestsAny ? undefined : status.skip();
    },
    score(_state, pod, nodeInfo) {
      const info = podInfoOf(pod);
      const fractions: number[] = [];
      for (const name of resources) {
        const [requested, allocatable] = requestedAndAllocatable(info, nodeInfo, name, false);
        if (allocatable === 0) continue;
        fractions.push(Math.min(1, requested / allocatable));
      }
      let deviation = 0;
      if (fractions.length === 2) deviation = Math.abs((fractions[0] - fractions[1]) / 2);
      else if (fractions.length > 2) {
        const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
        deviation = Math.sqrt(fractions.reduce((sum, f) => sum + (f - mean) ** 2, 0) / fractions.length);
      }
      return Math.trunc((1 - deviation) * MAX_NODE_SCORE);
    },
  };
}

/** Reads the pod's own requests (nothing else on it). */
const emptyNode = new NodeInfo('');
