import type { DigestAlgorithm, TimestampAuthority } from '@libpdf/core';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { SignedData } from '@peculiar/asn1-cms';
import { MessageImprint, PKIStatus, TimeStampReq, TimeStampResp, TSTInfo } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { fromBER, Sequence } from 'asn1js';
import { randomBytes } from 'node:crypto';
import { OutgoingHttp, OutgoingHttpError } from '../common/http/outgoing-http.js';
import { TsaUnavailableError } from './signing.errors.js';

const DIGEST_OIDS: Record<DigestAlgorithm, string> = {
  'SHA-256': '2.16.840.1.101.3.4.2.1',
  'SHA-384': '2.16.840.1.101.3.4.2.2',
  'SHA-512': '2.16.840.1.101.3.4.2.3',
};
/** A time-stamp reply is a token with the TSA's certificates: a few kB. */
const TSA_MAX_BYTES = 262_144;

/**
 * RFC 3161 over the service's own outgoing transport (byte cap, whole-call deadline): asks for a token with the
 * TSA's certificate and a nonce, and accepts it only when it stamps the digest asked for, with that nonce.
 */
export class OutgoingTimestampAuthority implements TimestampAuthority {
  constructor(
    private readonly http: OutgoingHttp,
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async timestamp(digest: Uint8Array, algorithm: DigestAlgorithm): Promise<Uint8Array> {
    const nonce = randomBytes(8);
    nonce[0] &= 0x7f; // a positive INTEGER
    const request = new TimeStampReq({
      messageImprint: new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: DIGEST_OIDS[algorithm] }), hashedMessage: new OctetString(digest) }),
      nonce: new Uint8Array(nonce).buffer,
      certReq: true,
    });
    let res;
    try {
      res = await this.http.call(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
        body: Buffer.from(AsnConvert.serialize(request)),
        maxBytes: TSA_MAX_BYTES,
        totalMs: this.timeoutMs,
        guarded: false,
      });
    } catch (err) {
      const e = err as OutgoingHttpError;
      throw new TsaUnavailableError(e.kind === 'timeout' ? 'timeout' : 'network', `time-stamping authority unreachable: ${e.message}`, { cause: err });
    }
    if (res.status < 200 || res.status >= 300) throw new TsaUnavailableError('http_status', `time-stamping authority answered HTTP ${res.status}`);
    return this.tokenOf(res.body, digest, nonce);
  }

  private tokenOf(body: Buffer, digest: Uint8Array, nonce: Buffer): Uint8Array {
    let resp: TimeStampResp;
    let info: TSTInfo;
    try {
      resp = AsnConvert.parse(body, TimeStampResp);
      if (resp.status.status !== PKIStatus.granted && resp.status.status !== PKIStatus.grantedWithMods) {
        const text = resp.status.statusString?.join('; ') ?? '';
        throw new TsaUnavailableError('rejected', `time-stamping authority refused the request (status ${resp.status.status}${text ? `: ${text}` : ''})`);
      }
      if (!resp.timeStampToken) throw new Error('no token in the answer');
      const signed = AsnConvert.parse(resp.timeStampToken.content, SignedData);
      const content = signed.encapContentInfo.eContent?.single;
      if (!content) throw new Error('the token holds no TSTInfo');
      info = AsnConvert.parse(content.buffer, TSTInfo);
    } catch (err) {
      if (err instanceof TsaUnavailableError) throw err;
      throw new TsaUnavailableError('invalid_answer', `time-stamping authority answered something that is not a time-stamp: ${(err as Error).message}`, { cause: err });
    }
    if (!Buffer.from(info.messageImprint.hashedMessage.buffer).equals(Buffer.from(digest)))
      throw new TsaUnavailableError('invalid_answer', 'the time-stamp token stamps another digest than the one asked for');
    if (!info.nonce || !sameInteger(Buffer.from(info.nonce), nonce)) throw new TsaUnavailableError('invalid_answer', 'the time-stamp token does not carry the nonce asked for');
    return tokenBytes(body);
  }
}

/** The token exactly as the TSA encoded it (its signature covers parts of it: never re-encode). */
function tokenBytes(body: Buffer): Uint8Array {
  const parsed = fromBER(new Uint8Array(body));
  const token = parsed.result instanceof Sequence ? parsed.result.valueBlock.value[1] : undefined;
  if (!token) throw new TsaUnavailableError('invalid_answer', 'no token in the time-stamping answer');
  return new Uint8Array(token.valueBeforeDecodeView);
}

/** DER INTEGERs compared as numbers (a leading zero byte may be added or dropped). */
function sameInteger(a: Buffer, b: Buffer): boolean {
  const strip = (x: Buffer) => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    return x.subarray(i);
  };
  return strip(a).equals(strip(b));
}
