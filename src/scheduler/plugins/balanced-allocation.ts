/**
 * NodeResourcesBalancedAllocation (Score): prefers nodes whose cpu and memory (or the configured
 * resources) would be used in equal fractions with the pod: score = (1 − standard deviation of the
 * fractions) × 100.
 */
import { NodeInfo, podInfoOf } from '../node-info.js';
import { MAX_NODE_SCORE, status, type Plugin } from '../types.js';
import { allocatableOf, DEFAULT_RESOURCES, requestedWith, type ResourceSpec } from './node-resources-fit.js';

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
      const requestsAny = resources.some((name) => requestedWith(info, emptyNode, name, false) > 0);
      return requestsAny ? undefined : status.skip();
    },
    score(_state, pod, nodeInfo) {
      const info = podInfoOf(pod);
      // The fractions' standard deviation, without an array for the usual two resources.
      let count = 0;
      let first = 0;
      let second = 0;
      let sum = 0;
      for (let i = 0; i < resources.length; i++) {
        const allocatable = allocatableOf(nodeInfo, resources[i]);
        if (allocatable === 0) continue;
        const fraction = Math.min(1, requestedWith(info, nodeInfo, resources[i], false) / allocatable);
        if (count === 0) first = fraction;
        else if (count === 1) second = fraction;
        count++;
        sum += fraction;
      }
      let deviation = 0;
      if (count === 2) deviation = Math.abs((first - second) / 2);
      else if (count > 2) {
        const mean = sum / count;
        let squares = 0;
        for (const name of resources) {
          const allocatable = allocatableOf(nodeInfo, name);
          if (allocatable > 0) squares += (Math.min(1, requestedWith(info, nodeInfo, name, false) / allocatable) - mean) ** 2;
        }
        deviation = Math.sqrt(squares / count);
      }
      return Math.trunc((1 - deviation) * MAX_NODE_SCORE);
    },
  };
}

/** Reads the pod's own requests (nothing else on it). */
const emptyNode = new NodeInfo('');
