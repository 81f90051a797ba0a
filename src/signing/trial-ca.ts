// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const subtle = webcrypto.subtle;
const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1];
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const YEAR_MS = 365 * 24 * 3600 * 1000;

export const TRIAL_FILES = { key: 'signing.key.pem', cert: 'signing.crt.pem', ca: 'ca.crt.pem' } as const;

export interface TrialMaterial {
  /** PKCS#8 DER of the signing key. */
  keyPkcs8: Uint8Array;
  /** DER, signing certificate first, root last. */
  certificates: Uint8Array[];
}

function pem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

export function pemBlocks(text: string, label: string): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64')));
}

export function certificatesPem(certificates: Uint8Array[]): string {
  return certificates.map((c) => pem('CERTIFICATE', c)).join('');
}

/**
 * A trial root CA and a signing certificate it issues (RSA 2048, keyUsage digitalSignature + nonRepudiation). The root's
 * private key is discarded once it has signed: nothing else can ever be issued under it.
 */
export async function generateTrialMaterial(now = new Date()): Promise<TrialMaterial> {
  const caKeys = (await subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const keys = (await subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(now.getTime() - 60_000);
  const stamp = now.toISOString().slice(0, 10);
  const caName = `CN=Testigo trial CA ${stamp}, O=Testigo trial only`;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: caName,
      keys: caKeys,
      notBefore,
      notAfter: new Date(now.getTime() + 20 * YEAR_MS),
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: `CN=Testigo trial signing, O=Testigo trial only`,
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter: new Date(now.getTime() + 10 * YEAR_MS),
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const keyPkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', keys.privateKey));
  return { keyPkcs8, certificates: [new Uint8Array(cert.rawData), new Uint8Array(ca.rawData)] };
}

/**
 * The trial material in `dir`, generated on first use. Written to a fresh folder beside it and renamed into place, so
 * processes starting at once (PROCESSES > 1, parallel tests) agree on one CA: the one whose rename lands first.
 */
export async function loadOrCreateTrialMaterial(dir: string): Promise<{ material: TrialMaterial; created: boolean }> {
  const read = (): TrialMaterial => ({
    keyPkcs8: pemBlocks(readFileSync(path.join(dir, TRIAL_FILES.key), 'utf8'), 'PRIVATE KEY')[0],
    certificates: [
      ...pemBlocks(readFileSync(path.join(dir, TRIAL_FILES.cert), 'utf8'), 'CERTIFICATE'),
      ...pemBlocks(readFileSync(path.join(dir, TRIAL_FILES.ca), 'utf8'), 'CERTIFICATE'),
    ],
  });
  if (existsSync(path.join(dir, TRIAL_FILES.key))) return { material: read(), created: false };
  const material = await generateTrialMaterial();
  mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = mkdtempSync(`${dir}.tmp-`);
  writeFileSync(path.join(tmp, TRIAL_FILES.key), pem('PRIVATE KEY', material.keyPkcs8), { mode: 0o600 });
  writeFileSync(path.join(tmp, TRIAL_FILES.cert), pem('CERTIFICATE', material.certificates[0]), { mode: 0o644 });
  writeFileSync(path.join(tmp, TRIAL_FILES.ca), pem('CERTIFICATE', material.certificates[1]), { mode: 0o644 });
  try {
    renameSync(tmp, dir);
    return { material, created: true };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another process got there first (its folder is now in place): use its CA.
    if (existsSync(path.join(dir, TRIAL_FILES.key))) return { material: read(), created: false };
    throw err;
  }
}
