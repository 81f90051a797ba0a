import { createTestApp, TestApp } from './support/test-app.js';

describe('Security headers', () => {
  let http: TestApp;
  let https: TestApp;

  beforeAll(async () => {
    http = await createTestApp();
    https = await createTestApp({ env: { PUBLIC_URL: 'https://testigo.example.com' }, databaseUrl: http.databaseUrl });
  });
  afterAll(async () => {
    await https.close();
    await http.close();
  });

  it('sends HSTS only when PUBLIC_URL is https, and never X-Powered-By', async () => {
    const plain = await http.http.get('/health').expect(200);
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    expect(plain.headers['x-powered-by']).toBeUndefined();
    const secure = await https.http.get('/health').expect(200);
    expect(secure.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(secure.headers['x-powered-by']).toBeUndefined();
    expect((await https.http.get('/v1/whatsapp/numbers').expect(401)).headers['x-powered-by']).toBeUndefined();
  });

  it('Swagger UI loads under its CSP: the page, and every script and style it names, from this origin', async () => {
    const page = await http.http.get('/docs/').redirects(1).expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      // Same origin: nothing the CSP would block.
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      const url = asset.startsWith('/') ? asset : `/docs/${asset.replace(/^\.\//, '')}`;
      const res = await http.http.get(url).expect(200);
      expect(res.text.length).toBeGreaterThan(100);
    }
    // The document the UI fetches (connect-src 'self').
    expect((await http.http.get('/docs-json').expect(200)).body.openapi).toMatch(/^3\./);
  });
});
