// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import { PDF, type PAdESLevel } from '@libpdf/core';
import * as x509 from '@peculiar/x509';
import { Injectable } from '@nestjs/common';
import { OutgoingHttp } from '../common/http/outgoing-http.js';
import { AppConfig } from '../config/app-config.js';
import { OutgoingTimestampAuthority } from './outgoing-timestamp-authority.js';
import { lastSignedRangeDigest } from './pdf-signature-check.js';
import { appendSignaturePage, type SignaturePage } from './signature-page.js';
import { TsaUnavailableError } from './signing.errors.js';
import { SigningKey } from './signing-key.port.js';

export interface SignPdfOptions {
  reason: string;
  location?: string;
  /** The signing time claimed in the signature (with a TSA, the token adds the authority's own time). */
  signingTime: Date;
  /** The signature field to fill or create; default `Signature_N`. */
  fieldName?: string;
}

export interface SignedPdf {
  bytes: Uint8Array;
  level: PAdESLevel;
  signedAt: Date;
  /** SHA-256 (hex) of the bytes the signature covers (its byte range): stays the same when a copy is altered later. */
  contentSha256: string;
  /** Why the level is not higher than it is, and libpdf's own warnings. */
  warnings: string[];
}

/** Room for the CMS: certificates (~1.5 kB each), the signature, and a TSA token with the TSA's chain. */
const CMS_BASE_BYTES = 8192;
const CMS_TSA_BYTES = 12_288;

/** Whether a certificate says where its revocation status is published (an OCSP responder or a CRL). */
function namesRevocationSource(der: Uint8Array): boolean {
  const cert = new x509.X509Certificate(der);
  return !!cert.getExtension('1.3.6.1.5.5.7.1.1') || !!cert.getExtension('2.5.29.31');
}

/**
 * PAdES signing (ETSI.CAdES.detached, with the signing-certificate-v2 attribute) under the SigningKey: B-B without a
 * TSA; with TSA_URL, B-T, or a typed retryable error when the authority gives no token (never a silent B-B).
 */
@Injectable()
export class PdfSigning {
  constructor(
    private readonly key: SigningKey,
    private readonly config: AppConfig,
    private readonly http: OutgoingHttp,
  ) {}

  /** Whether signatures carry a trusted timestamp (TSA_URL is set). */
  get timestamped(): boolean {
    return !!this.config.TSA_URL;
  }

  async sign(pdf: Uint8Array, opts: SignPdfOptions): Promise<SignedPdf> {
    const [signer, chain] = await Promise.all([this.key.signer(), this.key.chain()]);
    const warnings: string[] = [];
    const tsa = this.config.TSA_URL ? new OutgoingTimestampAuthority(this.http, this.config.TSA_URL, this.config.TSA_TIMEOUT_MS) : undefined;
    const level: PAdESLevel = tsa ? 'B-T' : 'B-B';
    if (tsa) {
      // B-LT/B-LTA embed OCSP responses or CRLs for the chain; the chain must say where they are published.
      const revocable = chain.certificates.slice(0, -1);
      warnings.push(
        revocable.some(namesRevocationSource)
          ? 'B-T, not B-LT: revocation data (OCSP/CRL) is not fetched for the signing chain'
          : 'B-T, not B-LT: the signing chain names no OCSP responder or CRL, so there is no revocation data to embed',
      );
    } else {
      warnings.push('B-B: no TSA_URL, so the signing time is the service’s own claim');
    }
    const doc = await PDF.load(new Uint8Array(pdf));
    let result;
    try {
      result = await doc.sign({
        signer,
        subFilter: 'ETSI.CAdES.detached',
        level,
        timestampAuthority: tsa,
        reason: opts.reason,
        location: opts.location,
        signingTime: opts.signingTime,
        fieldName: opts.fieldName,
        digestAlgorithm: 'SHA-256',
        estimatedSize: CMS_BASE_BYTES + chain.certificates.length * 2048 + (tsa ? CMS_TSA_BYTES : 0),
      });
    } catch (err) {
      throw tsaCause(err) ?? err;
    }
    warnings.push(...result.warnings.map((w) => `${w.code}: ${w.message}`));
    return { bytes: result.bytes, level, signedAt: opts.signingTime, contentSha256: lastSignedRangeDigest(Buffer.from(result.bytes))!, warnings };
  }

  appendSignaturePage(pdf: Uint8Array, page: SignaturePage): Promise<Uint8Array> {
    return appendSignaturePage(pdf, page);
  }
}

/** The TSA's failure, however deep libpdf wrapped it. */
function tsaCause(err: unknown): TsaUnavailableError | null {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 6; e = e.cause as typeof e, depth++) {
    if (e instanceof TsaUnavailableError) return e;
  }
  return null;
}
