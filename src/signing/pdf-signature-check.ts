import { createHash, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
/**
 * Node's WebCrypto, passed to each call: pkijs' global engine is not ours to set (@libpdf/core installs its own there
 * for PKCS#12, and swaps it back whenever it finds another).
 */
const ENGINE = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as EngineCrypto });

const OID = {
  signedData: '1.2.840.113549.1.7.2',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  timeStampToken: '1.2.840.113549.1.9.16.2.14',
};

/** What one signature of a PDF says, checked. */
export interface PdfSignatureCheck {
  /** The CMS verifies: the signed attributes' signature under the signer's key, and their digest over the byte range. */
  valid: boolean;
  /** The byte range runs from the file's first byte to its last (nothing unsigned was added after). */
  coversWholeFile: boolean;
  /** The signer's certificate chains up to a certificate in `trusted`. */
  trusted: boolean;
  /** B-T with an RFC 3161 timestamp token, else B-B. */
  level: 'B-B' | 'B-T';
  /** The timestamp's time when there is one, else the signed signing-time attribute. */
  signedAt: Date | null;
  /** The SHA-256 (hex) the signature claims for its byte range: fixed by the signing, whatever was changed since. */
  claimedDigest: string | null;
  /** The SHA-256 (hex) of the byte range as it is now. */
  rangeDigest: string;
}

/** Each `/ByteRange [a b c d]` of the file, in file order; the signature's hex `/Contents` is the gap between. */
function byteRanges(pdf: Buffer): Array<[number, number, number, number]> {
  const text = pdf.toString('latin1');
  const ranges: Array<[number, number, number, number]> = [];
  for (const m of text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)) {
    const r = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] as [number, number, number, number];
    if (r[0] === 0 && r[1] < r[2] && r[2] + r[3] <= pdf.length) ranges.push(r);
  }
  return ranges;
}

/** The SHA-256 (hex) of what the file's last signature covers, or null when it has none. */
export function lastSignedRangeDigest(pdf: Buffer): string | null {
  const range = byteRanges(pdf).at(-1);
  if (!range) return null;
  const [a, b, c, d] = range;
  return createHash('sha256')
    .update(pdf.subarray(a, a + b))
    .update(pdf.subarray(c, c + d))
    .digest('hex');
}

/**
 * Checks every PAdES/CMS signature of a PDF independently of the PDF library that made it: finds its byte range,
 * decodes the CMS (pkijs), and verifies the signed attributes and their message digest over the range. `trusted` are
 * DER certificates (our chain's root): a check's `trusted` says whether the signer chains up to one of them.
 */
export async function checkPdfSignatures(pdf: Buffer, trusted: readonly Uint8Array[]): Promise<PdfSignatureCheck[]> {
  const checks: PdfSignatureCheck[] = [];
  for (const [a, b, c, d] of byteRanges(pdf)) {
    const content = Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]);
    const rangeDigest = createHash('sha256').update(content).digest('hex');
    const hex = pdf
      .subarray(a + b, c)
      .toString('latin1')
      .replace(/[<>\s]/g, '');
    checks.push(await checkCms(Buffer.from(hex, 'hex'), content, rangeDigest, c + d === pdf.length, trusted));
  }
  return checks;
}

async function checkCms(der: Buffer, content: Buffer, rangeDigest: string, coversWholeFile: boolean, trusted: readonly Uint8Array[]): Promise<PdfSignatureCheck> {
  const failed: PdfSignatureCheck = { valid: false, coversWholeFile, trusted: false, level: 'B-B', signedAt: null, claimedDigest: null, rangeDigest };
  let signed: pkijs.SignedData;
  try {
    // /Contents is zero-padded past the CMS: fromBER reads the one structure and leaves the padding.
    const info = new pkijs.ContentInfo({ schema: asn1js.fromBER(new Uint8Array(der)).result });
    if (info.contentType !== OID.signedData) return failed;
    signed = new pkijs.SignedData({ schema: info.content });
  } catch {
    return failed;
  }
  const signer = signed.signerInfos[0];
  if (!signer) return failed;
  const attr = (type: string) => signer.signedAttrs?.attributes.find((x) => x.type === type);
  const digest = attr(OID.messageDigest)?.values[0] as asn1js.OctetString | undefined;
  const claimedDigest = digest ? Buffer.from(digest.valueBlock.valueHexView).toString('hex') : null;
  const token = signer.unsignedAttrs?.attributes.find((x) => x.type === OID.timeStampToken);
  // pkijs throws on a signature that does not verify, as well as returning false.
  const valid = await signed.verify({ signer: 0, data: new Uint8Array(content).buffer, checkChain: false }, ENGINE).catch(() => false);
  return {
    valid: valid && claimedDigest === rangeDigest,
    coversWholeFile,
    trusted: await chainsTo(signed, trusted),
    level: token ? 'B-T' : 'B-B',
    signedAt: (token ? timestampTime(token) : null) ?? signingTime(attr(OID.signingTime)),
    claimedDigest,
    rangeDigest,
  };
}

/**
 * The signer's certificate (the one the signer info names) chains up to one of `trusted`, at the present time. Apart
 * from the content: a copy changed after signing was still signed by whoever signed it.
 */
async function chainsTo(signed: pkijs.SignedData, trusted: readonly Uint8Array[]): Promise<boolean> {
  if (trusted.length === 0) return false;
  try {
    const certs = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
    const sid = signed.signerInfos[0].sid as pkijs.IssuerAndSerialNumber;
    const signer = certs.find((c) => c.serialNumber.isEqual(sid.serialNumber) && c.issuer.isEqual(sid.issuer));
    if (!signer) return false;
    // pkijs takes the last certificate as the end entity.
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: trusted.map((der) => pkijs.Certificate.fromBER(der)),
      certs: [...certs.filter((c) => c !== signer), signer],
    });
    return (await engine.verify({}, ENGINE)).result;
  } catch {
    return false;
  }
}

function signingTime(a: pkijs.Attribute | undefined): Date | null {
  const v = a?.values[0] as asn1js.UTCTime | asn1js.GeneralizedTime | undefined;
  return v && 'toDate' in v ? v.toDate() : null;
}

function timestampTime(a: pkijs.Attribute): Date | null {
  try {
    const info = new pkijs.ContentInfo({ schema: a.values[0] });
    const sd = new pkijs.SignedData({ schema: info.content });
    const econtent = sd.encapContentInfo.eContent;
    if (!econtent) return null;
    const tst = new pkijs.TSTInfo({ schema: asn1js.fromBER(econtent.getValue()).result });
    return tst.genTime;
  } catch {
    return null;
  }
}
