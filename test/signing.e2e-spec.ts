import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/app-config.js';
import { FileSigningKey } from '../src/signing/file-signing-key.adapter.js';
import { PdfSigning } from '../src/signing/pdf-signing.service.js';
import { TsaUnavailableError } from '../src/signing/signing.errors.js';
import { SigningKey } from '../src/signing/signing-key.port.js';
import { startFakeTsa, type FakeTsa } from './fakes/fake-tsa.js';
import { lastSignature, makeContract, runTool, withVerifierDir } from './support/pdf-verifiers.js';
import { createTestApp, testDataDir, type TestApp } from './support/test-app.js';

const SIGNING_TIME = new Date('2026-03-04T10:20:30Z');

/** The chain's root as PEM (the last certificate of the served chain). */
function rootPem(chainPem: string): string {
  const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g)!;
  return blocks[blocks.length - 1];
}

describe('signing core (PAdES with @libpdf/core)', () => {
  let t: TestApp;
  let signing: PdfSigning;
  let chainPem: string;
  let contract: Uint8Array;

  beforeAll(async () => {
    t = await createTestApp();
    signing = t.app.get(PdfSigning);
    contract = await makeContract(3);
    const res = await t.http.get('/v1/signing/certificates').expect(200);
    chainPem = res.text;
  });
  afterAll(() => t.close());

  it('serves the chain publicly as PEM: signing certificate first, trial root last', async () => {
    const res = await t.http.get('/v1/signing/certificates').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-pem-file/);
    const certs = res.text.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
    expect(certs).toHaveLength(2);
    const key = t.app.get(SigningKey);
    expect(key.trial).toBe(true);
    const chain = await key.chain();
    expect(chain.pem).toBe(res.text);
    expect(chain.certificates).toHaveLength(2);
    // The trial material lives in DATA_DIR/signing, its key readable by the owner only.
    const keyFile = path.join(testDataDir(), 'signing', 'signing.key.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const cert = await runTool('openssl', ['x509', '-noout', '-subject', '-ext', 'keyUsage', '-in', path.join(testDataDir(), 'signing', 'signing.crt.pem')]);
    expect(cert.out).toContain('CN = Testigo trial signing');
    expect(cert.out).toMatch(/critical\s+Digital Signature, Non Repudiation/);
  });

  it('B-B without a TSA: pdfsig, openssl cms and qpdf accept it; signingCertificateV2 is there', async () => {
    const before = Buffer.from(contract);
    const signed = await signing.sign(contract, { reason: 'Contract accepted', location: 'WhatsApp', signingTime: SIGNING_TIME });
    expect(Buffer.from(contract).equals(before)).toBe(true);
    expect(signed.level).toBe('B-B');
    expect(signed.signedAt).toEqual(SIGNING_TIME);
    expect(signed.warnings.join('\n')).toMatch(/B-B: no TSA_URL/);
    await withVerifierDir(rootPem(chainPem), async (dir, nssdir) => {
      const file = path.join(dir, 'signed.pdf');
      writeFileSync(file, signed.bytes);
      const pdfsig = await runTool('pdfsig', ['-nssdir', nssdir, file]);
      expect(pdfsig.out).toContain('Signature is Valid.');
      expect(pdfsig.out).toContain('ETSI.CAdES.detached');
      expect(pdfsig.out).toContain('Certificate is Trusted.');
      expect(pdfsig.out).toContain('Testigo trial signing');

      const { signed: content, cms } = lastSignature(signed.bytes);
      writeFileSync(path.join(dir, 'content.bin'), content);
      writeFileSync(path.join(dir, 'sig.der'), cms);
      writeFileSync(path.join(dir, 'root.pem'), rootPem(chainPem));
      const verify = await runTool('openssl', [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        path.join(dir, 'sig.der'),
        '-content',
        path.join(dir, 'content.bin'),
        '-CAfile',
        path.join(dir, 'root.pem'),
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ]);
      expect(verify.out).toContain('Verification successful');
      expect(verify.code).toBe(0);
      const print = await runTool('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', path.join(dir, 'sig.der')]);
      expect(print.out).toContain('signingCertificateV2');
      expect(print.out).not.toContain('id-smime-aa-timeStampToken');

      const qpdf = await runTool('qpdf', ['--check', file]);
      expect(qpdf.code).toBe(0);
      expect(qpdf.out).toContain('No syntax or stream encoding errors found');

      // One changed byte inside the signed range: the signature no longer verifies.
      const tampered = Buffer.from(signed.bytes);
      const at = tampered.indexOf('/Reason');
      expect(at).toBeGreaterThan(0);
      tampered[at + 10] = tampered[at + 10] === 0x41 ? 0x42 : 0x41;
      const bad = path.join(dir, 'tampered.pdf');
      writeFileSync(bad, tampered);
      const tamperedSig = await runTool('pdfsig', ['-nssdir', nssdir, bad]);
      expect(tamperedSig.out).not.toContain('Signature is Valid.');
      expect(tamperedSig.out).toMatch(/Signature is Invalid|Digest Mismatch/);
    });
  });

  it('appends a signature page: text readable by pdftotext, accents kept, long values wrapped, input untouched', async () => {
    const before = Buffer.from(contract);
    const sha = createHash('sha256').update(contract).digest('hex');
    const out = await signing.appendSignaturePage(contract, {
      signerName: 'María José Núñez Gonçalves de la Peña y Älvarez-Castañeda Montenegro Ibáñez',
      maskedPhone: '+57 300 ••• ••67',
      signedAt: SIGNING_TIME,
      processId: 'PRC01JTESTPROCESS0000000001',
      originalSha256: sha,
      otp: { channel: 'sms', verifiedAt: new Date('2026-03-04T10:19:00Z') },
      verificationUrl: `https://testigo.example.com/verify/PRC01JTESTPROCESS0000000001?h=${sha}`,
      language: 'es',
    });
    expect(Buffer.from(contract).equals(before)).toBe(true);
    await withVerifierDir(rootPem(chainPem), async (dir) => {
      const file = path.join(dir, 'page.pdf');
      writeFileSync(file, out);
      const info = await runTool('pdfinfo', [file]);
      expect(info.out).toMatch(/Pages:\s+4/);
      const text = (await runTool('pdftotext', ['-f', '4', '-l', '4', file, '-'])).out;
      expect(text).toContain('Página de firma electrónica');
      expect(text).toContain('María José Núñez Gonçalves');
      expect(text).toContain('PRC01JTESTPROCESS0000000001');
      expect(text.replace(/\s+/g, '')).toContain(sha);
      expect(text).toContain('2026-03-04 10:20:30 UTC');
      expect(text).toMatch(/verificado por SMS/);
      expect(text).toContain('+57 300');
      expect((await runTool('qpdf', ['--check', file])).code).toBe(0);
      // The page has the last page's size.
      expect(info.out).toMatch(/Page size:\s+595(\.\d+)? x 841(\.\d+)? pts/);
    });
    // Signed afterwards, the page is covered by the signature.
    const signed = await signing.sign(out, { reason: 'Contract accepted', signingTime: SIGNING_TIME });
    expect(signed.level).toBe('B-B');
  });

  it('labels the page in English and Portuguese', async () => {
    for (const [language, title] of [
      ['en', 'Electronic signature page'],
      ['pt', 'Página de assinatura eletrônica'],
    ] as const) {
      const out = await signing.appendSignaturePage(contract, {
        signerName: 'Ana',
        maskedPhone: '+55 11 •••• 1234',
        signedAt: SIGNING_TIME,
        processId: 'PRC1',
        originalSha256: 'ab'.repeat(32),
        otp: null,
        verificationUrl: 'https://x.example/v/1',
        language,
      });
      await withVerifierDir(rootPem(chainPem), async (dir) => {
        writeFileSync(path.join(dir, 'p.pdf'), out);
        expect((await runTool('pdftotext', ['-f', '4', '-l', '4', path.join(dir, 'p.pdf'), '-'])).out).toContain(title);
      });
    }
  });
});

describe('signing with a time-stamping authority (TSA_URL)', () => {
  let tsa: FakeTsa;
  let t: TestApp;
  let signing: PdfSigning;
  let contract: Uint8Array;

  beforeAll(async () => {
    tsa = await startFakeTsa();
    t = await createTestApp({ env: { TSA_URL: tsa.url, TSA_TIMEOUT_MS: '1500' } });
    signing = t.app.get(PdfSigning);
    contract = await makeContract(2);
  });
  afterAll(async () => {
    await t.close();
    await tsa.close();
  });

  it('B-T: the token is embedded and verifies with openssl ts -verify; pdfsig still accepts the signature', async () => {
    tsa.mode = 'ok';
    const signed = await signing.sign(contract, { reason: 'Contract accepted', signingTime: SIGNING_TIME });
    expect(signed.level).toBe('B-T');
    expect(signed.warnings.join('\n')).toMatch(/B-T, not B-LT: the signing chain names no OCSP responder or CRL/);
    expect(tsa.requests.at(-1)?.contentType).toBe('application/timestamp-query');
    const chainPem = (await t.http.get('/v1/signing/certificates').expect(200)).text;
    await withVerifierDir(rootPem(chainPem), async (dir, nssdir) => {
      const file = path.join(dir, 'signed.pdf');
      writeFileSync(file, signed.bytes);
      const pdfsig = await runTool('pdfsig', ['-nssdir', nssdir, file]);
      expect(pdfsig.out).toContain('Signature is Valid.');
      expect(pdfsig.out).toContain('ETSI.CAdES.detached');
      const { cms } = lastSignature(signed.bytes);
      writeFileSync(path.join(dir, 'sig.der'), cms);
      const print = await runTool('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', path.join(dir, 'sig.der')]);
      expect(print.out).toContain('signingCertificateV2');
      expect(print.out).toContain('id-smime-aa-timeStampToken');
      const verify = await runTool('openssl', ['ts', '-verify', '-in', tsa.last!.replyFile, '-queryfile', tsa.last!.queryFile, '-CAfile', tsa.caFile, '-untrusted', tsa.certFile]);
      expect(verify.out).toContain('Verification: OK');
      // The token in the PDF is the one the TSA replied with.
      const reply = readFileSync(tsa.last!.replyFile);
      const token = reply.subarray(reply.length - 1500);
      expect(Buffer.from(cms).includes(token)).toBe(true);
    });
  });

  it('a TSA answering 500 gives the typed retryable error, never a B-B', async () => {
    tsa.mode = 'error';
    const err = await signing.sign(contract, { reason: 'x', signingTime: SIGNING_TIME }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TsaUnavailableError);
    expect((err as TsaUnavailableError).retryable).toBe(true);
    expect((err as TsaUnavailableError).reason).toBe('http_status');
  });

  it('a TSA that is slow past TSA_TIMEOUT_MS gives the typed retryable error', async () => {
    tsa.mode = 'hang';
    const err = await signing.sign(contract, { reason: 'x', signingTime: SIGNING_TIME }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TsaUnavailableError);
    expect((err as TsaUnavailableError).reason).toBe('timeout');
  });

  it('a TSA that is down gives the typed retryable error', async () => {
    const down = await createTestApp({ env: { TSA_URL: 'http://127.0.0.1:9/tsr' } });
    try {
      const err = await down.app
        .get(PdfSigning)
        .sign(contract, { reason: 'x', signingTime: SIGNING_TIME })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(TsaUnavailableError);
      expect((err as TsaUnavailableError).reason).toBe('network');
    } finally {
      await down.close();
    }
  });
});

describe('signing with a PKCS#12 key (SIGNING_P12_PATH / SIGNING_P12_BASE64)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'testigo-p12-'));
  const p12 = path.join(dir, 'key.p12');
  beforeAll(async () => {
    // A PKCS#12 file as an operator would make it with openssl (AES-256 + PBKDF2, openssl 3's default), from the
    // trial material (any key and chain will do).
    await createTestApp().then((t) => t.close());
    const s = (f: string) => path.join(testDataDir(), 'signing', f);
    const made = await runTool('openssl', [
      'pkcs12',
      '-export',
      '-inkey',
      s('signing.key.pem'),
      '-in',
      s('signing.crt.pem'),
      '-certfile',
      s('ca.crt.pem'),
      '-passout',
      'pass:s3cret',
      '-out',
      p12,
    ]);
    expect(made.code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('signs with the file key and serves its chain', async () => {
    for (const env of <Array<Record<string, string>>>[
      { SIGNING_P12_PATH: p12, SIGNING_P12_PASSWORD: 's3cret', SIGNING_TRIAL: '' },
      { SIGNING_P12_BASE64: readFileSync(p12).toString('base64'), SIGNING_P12_PASSWORD: 's3cret', SIGNING_TRIAL: '' },
    ]) {
      const t = await createTestApp({ env });
      try {
        const key = t.app.get(SigningKey);
        expect(key.trial).toBe(false);
        const chain = await key.chain();
        expect(chain.certificates).toHaveLength(2);
        expect((await t.http.get('/v1/signing/certificates').expect(200)).text).toBe(chain.pem);
        const signed = await t.app.get(PdfSigning).sign(await makeContract(1), { reason: 'ok', signingTime: SIGNING_TIME });
        await withVerifierDir(rootPem(chain.pem), async (d, nssdir) => {
          writeFileSync(path.join(d, 's.pdf'), signed.bytes);
          expect((await runTool('pdfsig', ['-nssdir', nssdir, path.join(d, 's.pdf')])).out).toContain('Signature is Valid.');
        });
      } finally {
        await t.close();
      }
    }
  });

  it('a wrong password or a missing file is refused with a message naming the variable (the start stops on it)', async () => {
    const key = (env: Record<string, string>) => new FileSigningKey(loadConfig({ DATABASE_URL: 'postgres://x/y', ...env }));
    await expect(key({ SIGNING_P12_PATH: p12, SIGNING_P12_PASSWORD: 'wrong' }).chain()).rejects.toThrow(/SIGNING_P12_PATH: not a usable PKCS#12 file/);
    await expect(key({ SIGNING_P12_PATH: path.join(dir, 'none.p12') }).chain()).rejects.toThrow(/SIGNING_P12_PATH: cannot read/);
    await expect(key({ SIGNING_P12_BASE64: 'bm90IGEgcDEy', SIGNING_P12_PASSWORD: 'x' }).chain()).rejects.toThrow(/SIGNING_P12_BASE64: not a usable PKCS#12 file/);
    expect(() => loadConfig({ SIGNING_P12_PATH: p12, SIGNING_P12_BASE64: 'eA==' })).toThrow(/give one, not both/);
  });
});
