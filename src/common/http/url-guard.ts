import { Injectable } from '@nestjs/common';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Resolves a host name to all its addresses. A boundary so tests can map names without real DNS. */
export abstract class HostResolver {
  abstract resolve(hostname: string): Promise<string[]>;
}

@Injectable()
export class DnsHostResolver extends HostResolver {
  async resolve(hostname: string): Promise<string[]> {
    const found = await lookup(hostname, { all: true, verbatim: true });
    return found.map((a) => a.address);
  }
}

/**
 * Addresses an outgoing call (hooks, BSP APIs, media) may never reach unless local URLs are allowed: private, loopback,
 * link-local (cloud metadata), CGNAT, and the IPv6 forms that lead to an IPv4 address through a translator…
 */
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  // IPv4-compatible (::a.b.c.d, deprecated), which also holds :: and ::1.
  ['::', 96],
  // IPv4-translated (::ffff:0:a.b.c.d) and NAT64 prefixes: they reach an IPv4 address through a translator.
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  // Site-local (deprecated, still routed as private on some networks).
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** True when `address` (IPv4 or IPv6, IPv4-mapped included) is not a public unicast address. */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(ip);
  if (family === 4) return blocked.check(ip, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return blocked.check(mapped[1], 'ipv4');
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (mappedHex) return blocked.check(ipv4Of(mappedHex[1], mappedHex[2]), 'ipv4');
  // 6to4 (2002:AABB:CCDD::/48) carries the IPv4 address it is routed to.
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4})(:|$)/i.exec(ip);
  if (sixToFour && blocked.check(ipv4Of(sixToFour[1], sixToFour[2]), 'ipv4')) return true;
  return blocked.check(ip, 'ipv6');
}

function ipv4Of(high: string, low: string): string {
  const n = (parseInt(high, 16) << 16) | parseInt(low, 16);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Create/update-time rule: https only (http://localhost and 127.0.0.1 too when local URLs are allowed), and no
 * IP-literal host in a private range. Returns an error message, or null when the URL is acceptable.
 */
export function checkOutgoingUrl(raw: string, allowLocal: boolean, field = 'url'): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${field} must be a valid URL`;
  }
  if (url.username || url.password) return `${field} must not carry credentials`;
  const local = LOCAL_HOSTS.includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local && allowLocal)) {
    return allowLocal ? `${field} must be an https URL (or http://localhost / http://127.0.0.1)` : `${field} must be an https URL`;
  }
  if (!allowLocal && (url.hostname === 'localhost' || (isIP(url.hostname.replace(/^\[|\]$/g, '')) && isPrivateAddress(url.hostname)))) {
    return `${field} must not point to a private, loopback or link-local address`;
  }
  return null;
}

/** Delivery-time SSRF guard: resolves the host and refuses when any of its addresses is private. */
export async function ssrfCheck(raw: string, allowLocal: boolean, resolver: HostResolver): Promise<string | null> {
  if (allowLocal) return null;
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolver.resolve(host);
    } catch (err) {
      return `DNS_FAILED: ${(err as { code?: string }).code ?? (err as Error).message}`;
    }
  }
  if (addresses.length === 0) return 'DNS_FAILED: no address';
  const bad = addresses.find(isPrivateAddress);
  return bad ? `SSRF_BLOCKED: ${host} resolves to ${bad}, a private, loopback or link-local address` : null;
}
