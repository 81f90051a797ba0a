import { retryDelay, RETRY_DELAYS_MS } from './hook-dispatcher.js';
import { checkHookUrl, isPrivateAddress } from './url-guard.js';

describe('hook URL rules', () => {
  it.each([
    '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.254', '192.168.1.1', '127.0.0.1', '169.254.169.254',
    '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fc00::1', 'fe80::1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', 'not-an-ip',
  ])('%s is private', (ip) => expect(isPrivateAddress(ip)).toBe(true));

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '172.15.255.255', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (ip) => expect(isPrivateAddress(ip)).toBe(false),
  );

  it('wants https, allowing http://localhost only when local URLs are allowed', () => {
    expect(checkHookUrl('https://api.example.com/h', false)).toBeNull();
    expect(checkHookUrl('http://api.example.com/h', true)).toMatch(/https/);
    expect(checkHookUrl('http://127.0.0.1:8080/h', true)).toBeNull();
    expect(checkHookUrl('http://localhost:8080/h', false)).toMatch(/https/);
    expect(checkHookUrl('https://10.0.0.1/h', false)).toMatch(/private/);
    expect(checkHookUrl('https://[fd00::1]/h', false)).toMatch(/private/);
    expect(checkHookUrl('https://user:pw@api.example.com/h', false)).toMatch(/credentials/);
  });
});

describe('retry schedule', () => {
  it('follows 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h… within ±10%', () => {
    const expected = [5e3, 60e3, 300e3, 1800e3, 7200e3, 18000e3, 36000e3, 36000e3, 36000e3];
    expected.forEach((ms, i) => {
      expect(retryDelay(i + 1, 0.5)).toBe(ms);
      expect(retryDelay(i + 1, 0)).toBe(Math.round(ms * 0.9));
      expect(retryDelay(i + 1, 1)).toBe(Math.round(ms * 1.1));
    });
    expect(RETRY_DELAYS_MS).toHaveLength(7);
  });
});
