import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { HookReceiver } from './fakes/hook-receiver.js';
import { launchChromium, screenshot, seriousViolations } from './support/browser.js';
import { startBuiltService, type BuiltService } from './support/built-service.js';
import { until } from './support/until.js';

const LINE = '+14155550100';
const USER = '+573001234567';

/** The journey the console builds: consent, an email re-asked when wrong, a button, a list row, an image. */
const STEPS = [
  { id: 'terms', type: 'consent', text: '¿Aceptas el tratamiento de tus datos?', accept_title: 'Acepto', decline_title: 'No acepto' },
  { id: 'email', type: 'question', text: '¿Tu correo?', validator: { type: 'email' }, error_text: 'Ese correo no es válido' },
  {
    id: 'doc',
    type: 'choice',
    style: 'buttons',
    text: '¿Qué documento tienes?',
    options: [
      { id: 'cc', title: 'Cédula' },
      { id: 'pp', title: 'Pasaporte' },
    ],
  },
  {
    id: 'income',
    type: 'choice',
    style: 'list',
    text: '¿Tus ingresos?',
    options: [
      { id: 'low', title: 'Menos de 2 millones' },
      { id: 'high', title: 'Más de 2 millones' },
    ],
  },
  { id: 'photo', type: 'media', text: 'Envía una foto de tu documento', accept: ['image'] },
  { id: 'done', type: 'end', outcome: 'succeeded', text: '¡Listo, verificado!' },
];

describe('the console in a browser (Chromium driven by Playwright, against the built service)', () => {
  let svc: BuiltService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let apiKey: string;
  let receiver: HookReceiver;
  const cspErrors: string[] = [];
  const violations: Record<string, unknown[]> = {};

  /** axe on the page as it is now, and a screenshot of it. */
  const check = async (name: string) => {
    await screenshot(page, name);
    violations[name] = await seriousViolations(page);
  };
  const bubble = (text: string | RegExp) => page.locator('.chat .bubble', { hasText: text });

  beforeAll(async () => {
    receiver = await new HookReceiver().start();
    svc = await startBuiltService();
    ({ apiKey } = await svc.newTenant('Console'));
    const hook = await svc.request('POST', '/v1/hooks', { headers: { 'truora-api-key': apiKey }, body: { url: receiver.url, events: ['process.succeeded'] } });
    expect(hook.status).toBe(201);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(8000);
    page = await context.newPage();
    page.on('console', (m) => m.text().includes('Content Security Policy') && cspErrors.push(m.text()));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await receiver?.stop();
  });

  it('is where GET / leads, served with a CSP that allows no inline script', async () => {
    const home = await fetch(svc.url + '/', { redirect: 'manual' });
    expect(home.status).toBe(302);
    expect(home.headers.get('location')).toBe('/console/');
    const index = await fetch(svc.url + '/console/');
    expect(index.status).toBe(200);
    const csp = index.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    expect(await index.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('refuses a wrong API key with the API’s error, and keeps the user on the sign-in page', async () => {
    await page.goto(svc.url + '/');
    await page.getByLabel('API key', { exact: true }).fill('tk_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('UNAUTHENTICATED');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await check('sign-in-error');
  });

  it('signs in with an API key kept in sessionStorage, never in the URL', async () => {
    await page.getByLabel('API key', { exact: true }).fill(apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Chat simulator' }).waitFor();
    expect(page.url()).not.toContain(apiKey);
    expect(await page.evaluate('JSON.stringify(sessionStorage)')).toContain(apiKey);
    // A first sandbox line, from the empty state.
    await page.getByLabel('Sandbox line number').fill(LINE);
    await page.getByRole('button', { name: 'Add a sandbox line' }).click();
    await page.getByRole('region', { name: `Chat with ${LINE}` }).waitFor();
  });

  it('builds a flow: a wrong step is marked with its error, then the flow is created and drawn', async () => {
    await page.getByRole('link', { name: 'Flows' }).click();
    await page.getByRole('button', { name: 'New flow' }).click();
    await page.getByLabel('Name').fill('KYC console');
    const wrong = STEPS.map((s) => (s.id === 'doc' ? { ...s, next: 'nowhere' } : s));
    await page.getByLabel('Steps (JSON)').fill(JSON.stringify(wrong, null, 2));
    await page.getByRole('button', { name: 'Create the flow' }).click();
    const faults = page.getByRole('list', { name: 'Errors by step' });
    await expect(faults.textContent()).resolves.toMatch(/^doc: .*nowhere/);
    expect(await page.locator('.diagram .node.fault').getAttribute('data-step')).toBe('doc');
    await check('flow-editor-errors');
    await page.getByLabel('Steps (JSON)').fill(JSON.stringify(STEPS, null, 2));
    await page.getByRole('button', { name: 'Create the flow' }).click();
    await page.getByRole('heading', { name: /KYC console/ }).waitFor();
    // Every step is a node, and the branches are edges (the consent's decline included).
    expect(await page.locator('.diagram .node').count()).toBe(STEPS.length + 1);
    expect(await page.locator('.diagram .edge').count()).toBe(8);
    await expect(page.getByLabel('Steps as JSON').textContent()).resolves.toContain('"validator"');
    await check('flow');
  });

  it('creates an inbound with its wa.me link and QR code', async () => {
    await page.getByRole('link', { name: 'Inbounds' }).click();
    await page.getByLabel('Inbound message').fill('Hola KYC');
    await page.getByRole('button', { name: 'Create the inbound' }).click();
    await page.getByText('“Hola KYC”').waitFor();
    await expect(page.getByRole('link', { name: /wa\.me/ }).getAttribute('href')).resolves.toBe('https://wa.me/14155550100?text=Hola%20KYC');
    const qr = page.getByRole('img', { name: 'QR code of the wa.me link' });
    await qr.waitFor();
    expect(
      await qr.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth),
    ).toBeGreaterThan(100);
    await check('inbounds');
  });

  it('runs the inbound journey in the simulator by typing and tapping, live, to succeeded', async () => {
    await page.getByRole('link', { name: 'Chat simulator' }).click();
    await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
    // This service runs on the real clock: no control to move it, and the page says why.
    await page.getByText('this service runs on the real clock').waitFor();
    expect(await page.getByRole('button', { name: 'Move the clock' }).count()).toBe(0);
    const say = async (text: string) => {
      await page.getByLabel('Message', { exact: true }).fill(text);
      await page.getByRole('button', { name: 'Send' }).click();
    };
    await say('Hola KYC');
    // The bot's answers appear without a reload: they come through the event stream.
    await bubble('¿Aceptas el tratamiento').getByRole('button', { name: 'Acepto', exact: true }).click();
    await bubble('¿Tu correo?').waitFor();
    await say('ana@@example');
    await bubble('Ese correo no es válido').waitFor();
    await say('ana@example.com');
    await bubble('¿Qué documento tienes?').getByRole('button', { name: 'Pasaporte' }).click();
    const list = bubble('¿Tus ingresos?');
    await list.getByRole('button', { name: /Options|Ver|Elegir|opciones/i }).click();
    await list.getByRole('button', { name: 'Más de 2 millones' }).click();
    await bubble('Envía una foto').waitFor();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'console-')), 'cedula.png');
    writeFileSync(file, Buffer.from('89504e470d0a1a0a', 'hex'));
    await page.setInputFiles('input[type=file]', file);
    await bubble('¡Listo, verificado!').waitFor();
    // What the user wrote is on the right, with delivery ticks on the bot's side.
    await expect(page.locator('.bubble.mine').allTextContents()).resolves.toEqual(
      expect.arrayContaining([expect.stringContaining('ana@@example'), expect.stringContaining('Pasaporte'), expect.stringContaining('Más de 2 millones')]),
    );
    expect(await page.locator('.bubble.theirs .ticks').count()).toBeGreaterThan(0);
    await check('simulator');
    const processes = await until('the process to succeed', async () => {
      const r = await svc.request('GET', `/v1/processes?phone=${encodeURIComponent(USER)}`, { headers: { 'truora-api-key': apiKey } });
      return r.body.data[0]?.status === 'succeeded' && r.body.data;
    });
    expect(processes[0].answers).toMatchObject({ email: { value: 'ana@example.com' }, doc: { value: 'pp' }, income: { value: 'high' } });
  }, 60_000);

  it('shows the process in the list and its timeline, answers and evidence chain, which verifies', async () => {
    await page.getByRole('link', { name: 'Processes' }).click();
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByRole('button', { name: 'Filter' }).click();
    const row = page.getByRole('row').filter({ hasText: USER });
    await expect(row.textContent()).resolves.toContain('succeeded');
    await check('processes');
    await row.getByRole('link').click();
    const timeline = page.locator('.timeline');
    await timeline.waitFor();
    const text = await timeline.textContent();
    expect(text).toContain('message in');
    expect(text).toContain('message out');
    expect(text).toMatch(/email: ana@@example ✗ not_an_email/);
    expect(text).toMatch(/email: ana@example\.com ✓ valid/);
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'chain' }).textContent()).resolves.toContain('The chain verifies');
    await check('process');
  });

  it('shows the hook delivery with its attempt, and redelivers it', async () => {
    await until('the hook delivery', async () => receiver.requests.length >= 1);
    await page.getByRole('link', { name: 'Hooks' }).click();
    const delivery = page.locator('[data-delivery]').first();
    await expect(delivery.textContent()).resolves.toContain('process.succeeded');
    await expect(delivery.getByRole('list', { name: 'Attempts' }).locator('li').count()).resolves.toBe(1);
    await delivery.getByRole('button', { name: 'Redeliver' }).click();
    await page.getByRole('status').filter({ hasText: 'queued again' }).waitFor();
    await until('the redelivery', async () => receiver.requests.length >= 2);
    expect(receiver.requests[1]!.headers['webhook-id']).toBe(receiver.requests[0]!.headers['webhook-id']);
    await page.reload();
    await until('the second attempt on the page', async () => {
      await page.reload();
      return (await page.locator('[data-delivery]').first().getByRole('list', { name: 'Attempts' }).locator('li').count()) === 2;
    });
    await check('hooks');
  }, 30_000);

  it('shows the outbounds page with its empty state and send form state', async () => {
    await page.getByRole('link', { name: 'Outbounds' }).click();
    await page.getByText('No template yet').waitFor();
    await check('outbounds');
  });

  it('fits a 375 px wide screen without sideways scrolling', async () => {
    const narrow = await context.newPage();
    await narrow.setViewportSize({ width: 375, height: 800 });
    for (const route of ['simulator', 'processes', 'flows', 'hooks']) {
      await narrow.goto(`${svc.url}/console/#/${route}`);
      await narrow.locator('main h1').waitFor();
      expect({ route, width: await narrow.evaluate('document.documentElement.scrollWidth') }).toEqual({ route, width: 375 });
    }
    await narrow.close();
  });

  it('has no serious or critical accessibility violation (axe-core) on any page, and no CSP violation', () => {
    expect(Object.keys(violations)).toHaveLength(9);
    expect(violations).toEqual(Object.fromEntries(Object.keys(violations).map((k) => [k, []])));
    expect(cspErrors).toEqual([]);
  });
});
