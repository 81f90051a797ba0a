import 'reflect-metadata';
import { CryptoKeySigner, HttpTimestampAuthority, PDF, type TimestampAuthority } from '@libpdf/core';
import { createHash, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OutgoingHttp } from '../src/common/http/outgoing-http.js';
import { DnsHostResolver } from '../src/common/http/url-guard.js';
import { loadConfig } from '../src/config/app-config.js';
import { FileSigningKey } from '../src/signing/file-signing-key.adapter.js';
import { PdfSigning } from '../src/signing/pdf-signing.service.js';
import { loadOrCreateTrialMaterial } from '../src/signing/trial-ca.js';
import { startFakeTsa } from '../test/fakes/fake-tsa.js';
import { makeContract } from '../test/support/pdf-verifiers.js';
import { timed } from './support.js';

/** Signings per row (BENCH_SIGNINGS), one at a time: signing is CPU work in this process. */
const N = Number(process.env.BENCH_SIGNINGS ?? 60);
const SIGNING_TIME = new Date('2026-01-01T00:00:00Z');

const measure = (label: string, task: () => Promise<unknown>) => timed(label, N, task);

/**
 * A 20-page contract: the signing core (signature page appended, then PAdES B-B; then B-T against a local RFC 3161
 * authority) beside a bare @libpdf/core script signing the same file with the same key (the floor), in one run.
 */
export default async function run(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'testigo-bench-signing-'));
  const tsa = await startFakeTsa();
  try {
    const contract = await makeContract(20);
    const sha = createHash('sha256').update(contract).digest('hex');
    const page = {
      signerName: 'María José Núñez',
      maskedPhone: '+57 300 ••• ••67',
      signedAt: SIGNING_TIME,
      processId: 'PRC01BENCH',
      originalSha256: sha,
      otp: { channel: 'sms' as const, verifiedAt: SIGNING_TIME },
      verificationUrl: `https://testigo.example.com/verify/PRC01BENCH?h=${sha}`,
      language: 'es' as const,
    };
    const make = (env: Record<string, string>) => {
      const config = loadConfig({ DATA_DIR: dataDir, ALLOW_LOCAL_URLS: 'true', ...env });
      const http = new OutgoingHttp(config, new DnsHostResolver());
      return { signing: new PdfSigning(new FileSigningKey(config), config, http), http };
    };
    const bb = make({});
    const bt = make({ TSA_URL: tsa.url });

    // The floor: the same key, straight into @libpdf/core.
    const { material } = await loadOrCreateTrialMaterial(path.join(dataDir, 'signing'));
    const key = await webcrypto.subtle.importKey('pkcs8', material.keyPkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    const signer = new CryptoKeySigner(
      key as ConstructorParameters<typeof CryptoKeySigner>[0],
      material.certificates[0],
      'RSA',
      'RSASSA-PKCS1-v1_5',
      material.certificates.slice(1),
    );
    const bare = async (bytes: Uint8Array, level: 'B-B' | 'B-T', timestampAuthority?: TimestampAuthority) =>
      (await PDF.load(bytes)).sign({ signer, subFilter: 'ETSI.CAdES.detached', level, timestampAuthority, reason: 'Contract accepted', signingTime: SIGNING_TIME });
    const withPage = await bb.signing.appendSignaturePage(contract, page);

    console.log(`20-page contract, ${(contract.length / 1024).toFixed(0)} kB; ${N} signings per row, one at a time`);
    console.log('                                                         p50       p99   signings');
    const floorBB = await measure('floor: bare @libpdf/core, B-B (same file with page)', () => bare(withPage, 'B-B'));
    const signBB = await measure('PdfSigning.sign, B-B (same file)', () => bb.signing.sign(withPage, { reason: 'Contract accepted', signingTime: SIGNING_TIME }));
    const fullBB = await measure('appendSignaturePage + PdfSigning.sign, B-B', async () =>
      bb.signing.sign(await bb.signing.appendSignaturePage(contract, page), { reason: 'Contract accepted', signingTime: SIGNING_TIME }),
    );
    const floorBT = await measure('floor: bare @libpdf/core + its HTTP TSA, B-T', () => bare(withPage, 'B-T', new HttpTimestampAuthority(tsa.url)));
    const signBT = await measure('PdfSigning.sign, B-T (local TSA)', () => bt.signing.sign(withPage, { reason: 'Contract accepted', signingTime: SIGNING_TIME }));
    const fullBT = await measure('appendSignaturePage + PdfSigning.sign, B-T', async () =>
      bt.signing.sign(await bt.signing.appendSignaturePage(contract, page), { reason: 'Contract accepted', signingTime: SIGNING_TIME }),
    );
    const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)} %`;
    console.log(`B-B sign: ${pct(signBB.rate, floorBB.rate)} of the floor's rate (target ≥ 90 %); page + sign p50 ${fullBB.p50.toFixed(1)} ms (target ≤ 150 ms)`);
    console.log(`B-T sign: ${pct(signBT.rate, floorBT.rate)} of the floor's rate; page + sign p50 ${fullBT.p50.toFixed(1)} ms`);
    await Promise.all([bb.http.onApplicationShutdown(), bt.http.onApplicationShutdown()]);
  } finally {
    await tsa.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
