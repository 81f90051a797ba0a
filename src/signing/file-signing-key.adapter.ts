import { CryptoKeySigner, P12Signer, type Signer } from '@libpdf/core';
import { Logger } from '@nestjs/common';
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AppConfig } from '../config/app-config.js';
import { SigningKey, type SigningChain } from './signing-key.port.js';
import { certificatesPem, loadOrCreateTrialMaterial } from './trial-ca.js';

/** Why the configured key cannot be used; stops the start with a message naming the variable. */
export class SigningKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SigningKeyError';
  }
}

/**
 * The key from a PKCS#12 file (SIGNING_P12_PATH / SIGNING_P12_BASE64 + SIGNING_P12_PASSWORD), or without one a trial
 * CA and signing certificate generated once into DATA_DIR/signing. Loaded once, on first use or at start.
 */
export class FileSigningKey extends SigningKey {
  private readonly logger = new Logger('Signing');
  private loaded: Promise<{ signer: Signer; chain: SigningChain }> | null = null;
  readonly trial: boolean;

  constructor(private readonly config: AppConfig) {
    super();
    this.trial = config.signingTrial;
  }

  /** The folder of the trial material. */
  get trialDir(): string {
    return path.join(this.config.DATA_DIR, 'signing');
  }

  async signer(): Promise<Signer> {
    return (await this.load()).signer;
  }

  async chain(): Promise<SigningChain> {
    return (await this.load()).chain;
  }

  load(): Promise<{ signer: Signer; chain: SigningChain }> {
    this.loaded ??= (this.trial ? this.loadTrial() : this.loadP12()).catch((err: unknown) => {
      this.loaded = null;
      throw err;
    });
    return this.loaded;
  }

  private async loadP12(): Promise<{ signer: Signer; chain: SigningChain }> {
    const { SIGNING_P12_PATH: file, SIGNING_P12_BASE64: b64, SIGNING_P12_PASSWORD: password = '' } = this.config;
    if (!file && !b64) throw new SigningKeyError('No signing key: set SIGNING_P12_PATH or SIGNING_P12_BASE64 (or SIGNING_TRIAL=true)');
    let bytes: Uint8Array;
    try {
      bytes = file ? new Uint8Array(readFileSync(file)) : new Uint8Array(Buffer.from(b64!, 'base64'));
    } catch (err) {
      throw new SigningKeyError(`SIGNING_P12_PATH: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    let signer: P12Signer;
    try {
      signer = await P12Signer.create(bytes, password);
    } catch (err) {
      const which = file ? 'SIGNING_P12_PATH' : 'SIGNING_P12_BASE64';
      throw new SigningKeyError(`${which}: not a usable PKCS#12 file with SIGNING_P12_PASSWORD (${(err as Error).message})`, { cause: err });
    }
    const certificates = [signer.certificate, ...signer.certificateChain.filter((c) => !sameBytes(c, signer.certificate))];
    this.logger.log(`Signing with the PKCS#12 key from ${file ? file : 'SIGNING_P12_BASE64'} (${certificates.length} certificates in the chain)`);
    return { signer, chain: { certificates, pem: certificatesPem(certificates) } };
  }

  private async loadTrial(): Promise<{ signer: Signer; chain: SigningChain }> {
    const { material, created } = await loadOrCreateTrialMaterial(this.trialDir);
    const key = await webcrypto.subtle.importKey('pkcs8', material.keyPkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    const [cert, ...rest] = material.certificates;
    const signer = new CryptoKeySigner(key as ConstructorParameters<typeof CryptoKeySigner>[0], cert, 'RSA', 'RSASSA-PKCS1-v1_5', rest);
    this.logger.warn(
      `${created ? 'Generated a' : 'Using the'} TRIAL signing CA in ${this.trialDir}: signatures are for trials only (no one trusts this CA). ` +
        'Set SIGNING_P12_PATH or SIGNING_P12_BASE64 and SIGNING_P12_PASSWORD to sign with a real certificate.',
    );
    return { signer, chain: { certificates: material.certificates, pem: certificatesPem(material.certificates) } };
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}
