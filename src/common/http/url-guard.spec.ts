import { checkOutgoingUrl, isPrivateAddress } from './url-guard.js';

describe('outgoing URL rules', () => {
  it.each([
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.1.1',
    '127.0.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fd00::1',
    'fc00::1',
    'fe80::1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
    'not-an-ip',
    // IPv4-compatible, IPv4-translated, NAT64, site-local, 6to4 of a private address.
    '::127.0.0.1',
    '::a00:1',
    '::ffff:0:127.0.0.1',
    '::ffff:0:a9fe:a9fe',
    '64:ff9b::7f00:1',
    '64:ff9b::10.0.0.1',
    '64:ff9b:1::a00:1',
    'fec0::1',
    'feff::1',
    '2002:7f00:1::1',
    '2002:a9fe:a9fe::',
  ])('%s is private', (ip) => expect(isPrivateAddress(ip)).toBe(true));

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '172.15.255.255', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '2002:808:808::1', 'fe00::1'])('%s is public', (ip) =>
    expect(isPrivateAddress(ip)).toBe(false),
  );

  it('wants https, allowing http://localhost only when local URLs are allowed', () => {
    expect(checkOutgoingUrl('https://api.example.com/h', false)).toBeNull();
    expect(checkOutgoingUrl('http://api.example.com/h', true)).toMatch(/https/);
    expect(checkOutgoingUrl('http://127.0.0.1:8080/h', true)).toBeNull();
    expect(checkOutgoingUrl('http://localhost:8080/h', false)).toMatch(/https/);
    expect(checkOutgoingUrl('https://10.0.0.1/h', false)).toMatch(/private/);
    expect(checkOutgoingUrl('https://[fd00::1]/h', false)).toMatch(/private/);
    expect(checkOutgoingUrl('https://user:pw@api.example.com/h', false)).toMatch(/credentials/);
    expect(checkOutgoingUrl('https://169.254.169.254', false, 'base_url')).toBe('base_url must not point to a private, loopback or link-local address');
  });
});
