/** PrioritySort (QueueSort): higher spec.priority first, then whoever entered the queue first. */
import { podPriority, type Plugin, type QueuedPod } from '../types.js';

export const NAME = 'PrioritySort';

export function prioritySort(): Plugin {
  return {
    name: NAME,
    less(a: QueuedPod, b: QueuedPod): boolean {
      const pa = podPriority(a.pod);
      const pb = podPriority(b.pod);
      return pa > pb || (pa === pb && a.timestamp < b.timestamp);
    },
  };
}
