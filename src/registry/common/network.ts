/** IP address and CIDR syntax (net.ParseIP / net.ParseCIDR in upstream validation). */
import { isIPv4, isIPv6 } from 'node:net';

export function isIp(value: unknown): value is string {
  return typeof value === 'string' && (isIPv4(value) || isIPv6(value));
}

export function isCidr(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const address = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  if (isIPv4(address)) return Number(bits) <= 32;
  if (isIPv6(address)) return Number(bits) <= 128;
  return false;
}
