/** A HintTarget over plain endpoint lists, recording which unchanged slices the hint step rewrote. */
import type { HintTarget } from '../../src/controllers/topology-hints.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fields = Record<string, any>;

export function hintTarget(written: Fields[][], unchanged: Fields[][] = []): HintTarget & { rewritten: number[] } {
  const rewritten: number[] = [];
  return {
    serviceKey: 'default/web',
    addressType: 'IPv4',
    written,
    unchanged,
    rewritten,
    rewrite(index) {
      rewritten.push(index);
      const list: Fields[] = [];
      written.push(list);
      return list;
    },
  };
}
