import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import proxyaddr from 'proxy-addr';

/**
 * Which peers may tell us the client's address in `X-Forwarded-For`: a comma-separated list of
 * addresses, CIDR ranges and proxy-addr's names (`loopback`, `linklocal`, `uniquelocal`). Empty =
 * nobody: the socket peer is the client. Anything else would let a client pick its own address
 * (and so a fresh rate-limit bucket) per request. `none` is the explicit empty list.
 */
export type TrustedProxies = (addr: string, hop: number) => boolean;

export function trustedProxies(spec: string | undefined): TrustedProxies {
  const list = (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'none');
  if (!list.length) return () => false;
  return proxyaddr.compile(list);
}

/**
 * The client's address: the socket peer, or, when the peer is a trusted proxy, the nearest
 * `X-Forwarded-For` entry that is not itself a trusted proxy (walking from the right, as each proxy
 * appends). Entries a client wrote itself sit left of that and are ignored.
 */
export function clientAddressOf(req: Pick<IncomingMessage, 'headers' | 'socket'>, trust: TrustedProxies): string {
  if (!req.socket?.remoteAddress) return 'unknown';
  try {
    return proxyaddr(req as IncomingMessage, trust);
  } catch {
    return req.socket.remoteAddress;
  }
}

/** A peer on this machine (127.0.0.0/8, ::1, or IPv4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  if (!address || !ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range() === 'loopback';
}

/**
 * The key abuse limits count by: an IPv4 address as is (IPv4-mapped IPv6 unwrapped), an IPv6 address
 * as its /64, since one subscriber usually gets a whole /64 and could otherwise rotate through 2^64
 * addresses to dodge every per-address limit.
 */
export function addressGroup(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  if (ip.kind() === 'ipv4') return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(':')}::/64`;
}
