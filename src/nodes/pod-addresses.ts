/**
 * Pod IPs: each virtual node owns a /24 out of 10.64.0.0/10 (block i is 10.(64 + i / 256).(i % 256).0/24,
 * room for 16,384 nodes), and hands its pods the lowest free address from .2 up, as a host-local
 * IPAM plugin would. A pod keeps its address for life; the agent re-learns addresses from pod
 * status after a restart.
 */
export const MAX_POD_CIDR_BLOCKS = 16_384;

export function podCidrBlock(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_POD_CIDR_BLOCKS) throw new RangeError(`pod CIDR block ${index} is outside 0..${MAX_POD_CIDR_BLOCKS - 1}`);
  return `10.${64 + (index >> 8)}.${index & 255}.0/24`;
}

/** The block index of a CIDR this scheme made, else undefined. */
export function blockOfCidr(cidr: string): number | undefined {
  const match = /^10\.(\d+)\.(\d+)\.0\/24$/.exec(cidr);
  if (!match) return undefined;
  const second = Number(match[1]);
  const third = Number(match[2]);
  if (second < 64 || second >= 128 || third > 255) return undefined;
  return (second - 64) * 256 + third;
}

export class PodAddressPool {
  private readonly prefix: string;
  /** Last octet → pod key. */
  private readonly used = new Map<number, string>();
  private readonly byPod = new Map<string, number>();

  constructor(cidr: string) {
    const match = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(cidr);
    if (!match) throw new Error(`unsupported pod CIDR ${cidr}: a /24 is expected`);
    this.prefix = match[1];
  }

  /** The pod's address: the one it has (recorded), or the lowest free one; undefined when full. */
  assign(podKey: string, current?: string): string | undefined {
    const held = this.byPod.get(podKey);
    if (held !== undefined) return `${this.prefix}.${held}`;
    if (current?.startsWith(`${this.prefix}.`)) {
      const octet = Number(current.slice(this.prefix.length + 1));
      if (octet >= 2 && octet <= 254 && !this.used.has(octet)) return this.take(podKey, octet);
    }
    for (let octet = 2; octet <= 254; octet++) if (!this.used.has(octet)) return this.take(podKey, octet);
    return undefined;
  }

  release(podKey: string): void {
    const octet = this.byPod.get(podKey);
    if (octet === undefined) return;
    this.byPod.delete(podKey);
    this.used.delete(octet);
  }

  get size(): number {
    return this.byPod.size;
  }

  private take(podKey: string, octet: number): string {
    this.used.set(octet, podKey);
    this.byPod.set(podKey, octet);
    return `${this.prefix}.${octet}`;
  }
}
