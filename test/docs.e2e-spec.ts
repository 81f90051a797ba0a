import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { startBuiltService, type BuiltService } from './support/built-service.js';
import { freePort } from './support/free-port.js';
import { ADMIN_TOKEN } from './support/test-app.js';

/**
 * The documentation is tested: every relative link points at a file and heading that exist, and every shell block
 * marked ```bash runnable runs, in order, one shell per file, against the built service on the sandbox.
 */
const ROOT = path.resolve('.');
const DOCS = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

interface Block {
  info: string;
  code: string;
  line: number;
}

/** Fenced blocks (also indented, as inside a list item) and the text outside them. */
function parse(markdown: string): { blocks: Block[]; prose: string } {
  const blocks: Block[] = [];
  const prose: string[] = [];
  let open: { indent: number; info: string; line: number; lines: string[] } | null = null;
  markdown.split('\n').forEach((text, i) => {
    const fence = /^(\s*)```(.*)$/.exec(text);
    if (open) {
      if (fence && fence[2].trim() === '') {
        blocks.push({ info: open.info, code: open.lines.join('\n'), line: open.line });
        open = null;
      } else open.lines.push(text.slice(Math.min(open.indent, text.length - text.trimStart().length)));
    } else if (fence) open = { indent: fence[1].length, info: fence[2].trim(), line: i + 1, lines: [] };
    else prose.push(text);
  });
  if (open) throw new Error(`an unclosed code block at line ${(open as { line: number }).line}`);
  return { blocks, prose: prose.join('\n') };
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const m of parse(markdown).prose.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)) {
    const slug = m[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    result.add(n ? `${slug}-${n}` : slug);
  }
  return result;
}

describe('documentation', () => {
  it('README.md and every guide link only to files and headings that exist', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of DOCS) {
      const { prose } = parse(readFileSync(path.join(ROOT, file), 'utf8'));
      for (const m of prose.replace(/`[^`\n]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        const [relative, anchor] = target.split('#');
        const resolved = relative ? path.join(path.dirname(path.join(ROOT, file)), relative) : path.join(ROOT, file);
        checked++;
        if (!existsSync(resolved)) broken.push(`${file}: ${target} (no such file)`);
        else if (anchor && !anchors(readFileSync(resolved, 'utf8')).has(anchor)) broken.push(`${file}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it('README.md starts with the two commands, and links to every guide', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThan(150);
    const first = parse(readme).blocks[0].code;
    expect(first).toMatch(/^npm ci && npm start\b/m);
    expect(first).toMatch(/^npm ci && npm test\b/m);
    for (const guide of DOCS.filter((f) => f !== 'README.md')) expect(readme).toContain(`(${guide})`);
  });

  it('docs/flows.md lists every step type of openapi.json with every field of its Step.<type> schema', () => {
    const schemas = JSON.parse(readFileSync(path.join(ROOT, 'openapi.json'), 'utf8')).components.schemas as Record<string, { properties: Record<string, unknown> }>;
    const flows = readFileSync(path.join(ROOT, 'docs/flows.md'), 'utf8');
    const types = Object.keys(schemas).filter((k) => k.startsWith('Step.'));
    expect(types.length).toBeGreaterThanOrEqual(6);
    const missing: string[] = [];
    for (const name of types) {
      const type = name.slice('Step.'.length);
      const start = flows.indexOf(`\n### \`${type}\`\n`);
      if (start === -1) {
        missing.push(`the section of ${type}`);
        continue;
      }
      const section = flows.slice(start, flows.indexOf('\n#', start + 1));
      for (const field of Object.keys(schemas[name].properties)) if (!section.includes(`| \`${field}\` |`)) missing.push(`${type}.${field}`);
    }
    expect(missing).toEqual([]);
  });

  it('docs/outbounds.md documents every field of the outbound, send and consent schemas of openapi.json', () => {
    const schemas = JSON.parse(readFileSync(path.join(ROOT, 'openapi.json'), 'utf8')).components.schemas as Record<string, { properties: Record<string, unknown> }>;
    const guide = readFileSync(path.join(ROOT, 'docs/outbounds.md'), 'utf8');
    const names = ['CreateOutboundDto', 'OutboundDto', 'SendOutboundDto', 'SendOutboundResponseDto', 'CreateConsentDto', 'ConsentListDto', 'CreateConsentResponseDto'];
    const missing = names.flatMap((name) =>
      Object.keys(schemas[name].properties)
        .filter((field) => !new RegExp(`^\\| (\`\\w+\`, )*\`${field}\`[,| ]`, 'm').test(guide))
        .map((f) => `${name}.${f}`),
    );
    expect(missing).toEqual([]);
  });

  it("docs/deployment.md's configuration table has every variable the service reads", () => {
    const source = readFileSync(path.join(ROOT, 'src/config/app-config.ts'), 'utf8');
    const list = source.slice(source.indexOf('const KEYS = ['), source.indexOf('] as const', source.indexOf('const KEYS = [')));
    const keys = [...list.matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]);
    expect(keys.length).toBeGreaterThan(25);
    const guide = readFileSync(path.join(ROOT, 'docs/deployment.md'), 'utf8');
    const start = guide.indexOf('\n## Configuration\n');
    const rows = guide
      .slice(start, guide.indexOf('\n## ', start + 1))
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => l.split(' | ')[0]);
    expect(keys.filter((k) => !rows.some((r) => r.includes(`\`${k}\``)))).toEqual([]);
  });

  it('the error codes table lives in docs/troubleshooting.md', () => {
    expect(readFileSync(path.join(ROOT, 'docs/troubleshooting.md'), 'utf8')).toContain('## Error codes');
  });

  describe('runnable samples, against the built service on the sandbox', () => {
    let service: BuiltService;
    beforeAll(async () => {
      service = await startBuiltService({ SANDBOX_STATUS_DELAY_MS: '200' });
    }, 60_000);
    afterAll(async () => {
      await service?.stop();
    });

    const runnable = DOCS.map((file) => ({ file, blocks: parse(readFileSync(path.join(ROOT, file), 'utf8')).blocks.filter((b) => /^(bash|sh)\s+runnable\b/.test(b.info)) })).filter(
      (d) => d.blocks.length > 0,
    );

    it('there are runnable samples in the README and the guides', () => {
      expect(runnable.map((d) => d.file)).toEqual(expect.arrayContaining(['README.md', 'docs/sandbox-quickstart.md', 'docs/hooks.md']));
    });

    it.each(runnable)(
      '$file: every runnable sample runs, in order, in one shell',
      async ({ file, blocks }) => {
        // Each file gets a tenant of its own with the demo tenant's sandbox line, as after the first `npm start`.
        const { apiKey, tenantId } = await service.newTenant(`Docs ${file}`);
        const line = await service.request('POST', '/v1/whatsapp/numbers', {
          body: { phone_number: '+14155550100', provider: 'sandbox' },
          headers: { 'truora-api-key': apiKey },
        });
        expect(line.status).toBe(201);
        // Markers name the block that failed; `set -eo pipefail` stops at the first failing command.
        const script = ['set -eo pipefail', ...blocks.map((b) => `echo "@@ block at ${file}:${b.line}" >&2\n${b.code}`)].join('\n');
        const env = {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          BASE: service.url,
          KEY: apiKey,
          TENANT: tenantId,
          ADMIN: ADMIN_TOKEN,
          HOOK_PORT: String(await freePort()),
        };
        const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn('bash', ['-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.stderr.on('data', (d: Buffer) => (out += d.toString()));
          const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
          child.once('close', (code) => {
            clearTimeout(timer);
            resolve({ code, out });
          });
        });
        if (result.code !== 0) throw new Error(`a runnable sample of ${file} failed (exit ${result.code}):\n${result.out.slice(-4000)}`);
      },
      60_000,
    );
  });

  describe('docs/snippets/verify-hook.mjs', () => {
    const secret = `whsec_${Buffer.alloc(24, 3).toString('base64')}`;
    let port: number;
    let child: ReturnType<typeof spawn>;
    beforeAll(async () => {
      port = await freePort();
      child = spawn(process.execPath, ['docs/snippets/verify-hook.mjs'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, TESTIGO_HOOK_SECRET: secret, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    });
    afterAll(() => {
      child.kill();
    });

    const deliver = (body: string, headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } }).then((r) => r.status);
    const signed = (body: string, at = new Date(), key = secret) => {
      const id = 'EVT01DOCS';
      return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(key).sign(id, at, body) };
    };
    const body = JSON.stringify({ id: 'EVT01DOCS', type: 'ping', created_at: new Date().toISOString(), data: {} });

    it('accepts a delivery signed as Standard Webhooks sign, also beside a signature of another secret', async () => {
      expect(await deliver(body, signed(body))).toBe(204);
      const other = signed(body, new Date(), `whsec_${Buffer.alloc(24, 9).toString('base64')}`)['webhook-signature'];
      const headers = signed(body);
      expect(await deliver(body, { ...headers, 'webhook-signature': `${other} ${headers['webhook-signature']}` })).toBe(204);
    });

    it('refuses a changed body, another secret, a stale timestamp and missing headers', async () => {
      expect(await deliver(body.replace('ping', 'pong'), signed(body))).toBe(401);
      expect(await deliver(body, signed(body, new Date(), `whsec_${Buffer.alloc(24, 9).toString('base64')}`))).toBe(401);
      expect(await deliver(body, signed(body, new Date(Date.now() - 10 * 60_000)))).toBe(401);
      expect(await deliver(body, {})).toBe(401);
    });
  });

  it("docs/hooks.md's Python verifier accepts a signed delivery and refuses a changed one", () => {
    const python = spawnSync('python3', ['--version']);
    if (python.status !== 0) return; // not every machine has Python; the Node.js receiver is tested above regardless
    const code = /```python\n([\s\S]*?)```/.exec(readFileSync(path.join(ROOT, 'docs/hooks.md'), 'utf8'))![1];
    const secret = `whsec_${Buffer.alloc(24, 5).toString('base64')}`;
    const body = JSON.stringify({ id: 'EVT01PY', type: 'ping', data: {} });
    const at = new Date();
    const headers = { 'webhook-id': 'EVT01PY', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('EVT01PY', at, body) };
    const harness = `
import json, sys
s = json.loads(sys.argv[1])
print(verify_hook(s["secret"], s["body"].encode(), s["headers"])["type"])
try:
    verify_hook(s["secret"], s["body"].replace("ping", "pong").encode(), s["headers"])
    print("accepted a changed body")
except ValueError as e:
    print("refused:", e)
`;
    const run = spawnSync('python3', ['-c', code + harness, JSON.stringify({ secret, body, headers })], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toEqual(['ping', 'refused: no signature verifies']);
  });

  it('the runnable samples need no jq', () => {
    const uses = DOCS.flatMap((file) =>
      parse(readFileSync(path.join(ROOT, file), 'utf8'))
        .blocks.filter((b) => /runnable/.test(b.info) && /(^|[|;&(`]|\$\()\s*jq\b/m.test(b.code))
        .map((b) => `${file}:${b.line}`),
    );
    expect(uses).toEqual([]);
  });
});
