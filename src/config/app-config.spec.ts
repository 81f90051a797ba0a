import { ConfigError, loadConfig } from './app-config.js';

describe('loadConfig', () => {
  it('applies defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.embedded).toBe(true);
    expect(c.allowLocalUrls).toBe(true);
  });

  it('reads and converts values', () => {
    const c = loadConfig({ PORT: '8080', DATABASE_URL: 'postgres://u:p@db:5432/x', ALLOW_LOCAL_URLS: 'false' });
    expect(c.PORT).toBe(8080);
    expect(c.embedded).toBe(false);
    expect(c.allowLocalUrls).toBe(false);
  });

  it('an external database disallows local URLs unless asked', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x' }).allowLocalUrls).toBe(false);
  });

  it('fails fast naming each bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    const bad = () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x' });
    expect(bad).toThrow(/PORT="eighty"/);
    expect(bad).toThrow(/DATABASE_URL must start with postgres/);
  });

  it('caps media downloads at 20 MB unless MEDIA_MAX_BYTES says otherwise, within 1 kB to 100 MB', () => {
    expect(loadConfig({}).MEDIA_MAX_BYTES).toBe(20 * 1024 * 1024);
    expect(loadConfig({ MEDIA_MAX_BYTES: '5000000' }).MEDIA_MAX_BYTES).toBe(5_000_000);
    for (const bad of ['lots', '100', '1.5', String(200 * 1024 * 1024)]) {
      expect(() => loadConfig({ MEDIA_MAX_BYTES: bad })).toThrow(/MEDIA_MAX_BYTES=/);
    }
  });
});
