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

/** Addresses a hook may never reach unless local URLs are allowed: private, loopback, link-local (cloud metadata), CGNAT… */
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
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
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
  if (mappedHex) {
    const n = (parseInt(mappedHex[1], 16) << 16) | parseInt(mappedHex[2], 16);
    return blocked.check([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), 'ipv4');
  }
  return blocked.check(ip, 'ipv6');
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
