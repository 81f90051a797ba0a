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

  it('keeps files in DATA_DIR/files unless FILES_DIR says otherwise; an S3 store needs its bucket and both keys or neither', () => {
    expect(loadConfig({}).FILE_STORE).toBe('local');
    expect(loadConfig({ DATA_DIR: '/srv/testigo' }).filesDir).toBe('/srv/testigo/files');
    expect(loadConfig({ DATA_DIR: '/srv/testigo', FILES_DIR: '/mnt/files' }).filesDir).toBe('/mnt/files');
    expect(() => loadConfig({ FILE_STORE: 'disk' })).toThrow(/FILE_STORE="disk"/);
    expect(() => loadConfig({ FILE_STORE: 's3' })).toThrow(/S3_BUCKET: required when FILE_STORE=s3/);
    expect(() => loadConfig({ FILE_STORE: 's3', S3_BUCKET: 'files', S3_ACCESS_KEY_ID: 'k' })).toThrow(/give both or neither/);
    const s3 = loadConfig({ FILE_STORE: 's3', S3_BUCKET: 'files', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_FORCE_PATH_STYLE: 'true' });
    expect(s3).toMatchObject({ S3_BUCKET: 'files', S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: true });
  });
});
