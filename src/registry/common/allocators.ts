/**
 * Cluster-wide unique values a Service claims: cluster IPs from the service CIDR and node ports.
 * Upstream keeps these as bitmaps in etcd; here they live in memory and the owner of every value
 * is remembered (the Service's uid), so a retried write by the same owner is not a conflict and
 * the lead's store can rebuild the maps from stored Services at start-up.
 */

/** Hands out integers from [first, first + size), each to one owner. */
export class RangeAllocator {
  private readonly owners = new Map<number, string>();

  constructor(
    readonly first: number,
    readonly size: number,
    /** Offsets never handed out (e.g. a subnet's network and broadcast addresses). */
    private readonly reserved: ReadonlySet<number> = new Set(),
    /** Random picks start above this offset: the lower band is left for values chosen by clients. */
    private readonly dynamicFloor = 0,
  ) {}

  contains(value: number): boolean {
    const offset = value - this.first;
    return Number.isInteger(offset) && offset >= 0 && offset < this.size && !this.reserved.has(offset);
  }

  ownerOf(value: number): string | undefined {
    return this.owners.get(value);
  }

  /** Claims a value chosen by the client; false when someone else holds it or it is outside the range. */
  claim(value: number, owner: string): boolean {
    if (!this.contains(value)) return false;
    const current = this.owners.get(value);
    if (current !== undefined && current !== owner) return false;
    this.owners.set(value, owner);
    return true;
  }

  /** A free value picked at random (upstream picks randomly too), or undefined when full. */
  allocate(owner: string): number | undefined {
    const dynamicSize = this.size - this.dynamicFloor;
    const start = Math.floor(Math.random() * dynamicSize);
    for (let i = 0; i < this.size; i++) {
      // Probe the dynamic band first, then the lower band.
      const offset = i < dynamicSize ? this.dynamicFloor + ((start + i) % dynamicSize) : i - dynamicSize;
      const value = this.first + offset;
      if (this.reserved.has(offset) || this.owners.has(value)) continue;
      this.owners.set(value, owner);
      return value;
    }
    return undefined;
  }

  /** Frees a value, only if `owner` (when given) still holds it. */
  release(value: number, owner?: string): void {
    if (owner === undefined || this.owners.get(value) === owner) this.owners.delete(value);
  }

  /** Forgets every claim (before rebuilding from stored objects). */
  clear(): void {
    this.owners.clear();
  }
}

function ipv4ToNumber(ip: unknown): number | undefined {
  if (typeof ip !== 'string') return undefined;
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Cluster IPs of one IPv4 service CIDR. */
export class ServiceIpAllocator {
  private readonly range: RangeAllocator;

  constructor(readonly cidr: string) {
    const [address, bits] = cidr.split('/');
    const base = ipv4ToNumber(address);
    const prefix = Number(bits);
    if (base === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) throw new Error(`invalid service CIDR ${cidr}`);
    const size = 2 ** (32 - prefix);
    // Upstream keeps the lowest min(max(16, size/16), 256) addresses for statically chosen IPs.
    const staticBand = Math.min(Math.max(16, size / 16), 256);
    this.range = new RangeAllocator(base - (base % size), size, new Set([0, size - 1]), staticBand);
  }

  contains(ip: string): boolean {
    const n = ipv4ToNumber(ip);
    return n !== undefined && this.range.contains(n);
  }

  ownerOf(ip: string): string | undefined {
    const n = ipv4ToNumber(ip);
    return n === undefined ? undefined : this.range.ownerOf(n);
  }

  claim(ip: string, owner: string): boolean {
    const n = ipv4ToNumber(ip);
    return n !== undefined && this.range.claim(n, owner);
  }

  allocate(owner: string): string | undefined {
    const n = this.range.allocate(owner);
    return n === undefined ? undefined : numberToIpv4(n);
  }

  clear(): void {
    this.range.clear();
  }

  release(ip: string, owner?: string): void {
    const n = ipv4ToNumber(ip);
    if (n !== undefined) this.range.release(n, owner);
  }
}

export const SERVICE_CIDR = '10.96.0.0/12';
export const NODE_PORT_RANGE = { first: 30000, last: 32767 } as const;

/** The process-wide allocators; the lead seeds them from stored Services at start-up. */
export const serviceIps = new ServiceIpAllocator(SERVICE_CIDR);
export const nodePorts = new RangeAllocator(NODE_PORT_RANGE.first, NODE_PORT_RANGE.last - NODE_PORT_RANGE.first + 1);
