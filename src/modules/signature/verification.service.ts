import { PDF } from '@libpdf/core';
import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { checkPdfSignatures, type PdfSignatureCheck } from '../../signing/pdf-signature-check.js';
import { SigningKey } from '../../signing/signing-key.port.js';
import { ProcessResultsService } from '../conversations/process-results.service.js';
import { invalidPdf } from '../documents/documents.errors.js';
import { DocumentsService } from '../documents/documents.service.js';
import { canonicalEvent, type EvidenceEvent } from '../evidence/evidence-log.js';
import { CertificatesService } from './certificates.service.js';
import { Contract } from './entities/contract.entity.js';

/** What `POST /v1/verify` says of a PDF: nothing about the person, only whether we issued it and whether it is intact. */
export interface UploadVerification {
  issued_here: boolean;
  kind: 'signed_document' | 'certificate' | null;
  process_id: string | null;
  intact: boolean;
  signature: { valid: boolean; level: string; signed_at: string | null } | null;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Verification of the PDFs issued here (signed contracts and certificates of evidence), by anyone holding one, and
 * as part of a process's evidence verification: the PAdES signature is checked with pkijs, apart from the library
 * that made it, against our signing chain; the file's hash against what the evidence chain recorded.
 */
@Injectable()
export class VerificationService {
  constructor(
    private readonly ds: DataSource,
    private readonly key: SigningKey,
    private readonly documents: DocumentsService,
    private readonly certificates: CertificatesService,
    results: ProcessResultsService,
  ) {
    results.addEvidenceCheck('signed_document', (m, tenantId, processId, events) => this.checkSignedDocument(m, tenantId, processId, events));
    results.addEvidenceCheck('certificate', (_m, _tenantId, processId, events) => this.checkCertificate(processId, events));
  }

  /** A PDF handed in: whose it is, if ours, and whether it is the very file we issued with a valid seal. */
  async verifyUpload(bytes: Buffer): Promise<UploadVerification> {
    if (bytes.subarray(0, 1024).indexOf('%PDF-') < 0) {
      throw invalidPdf('file', 'it does not start with %PDF-');
    }
    const last = (await this.check(bytes)).at(-1);
    if (!last) return { issued_here: false, kind: null, process_id: null, intact: false, signature: null };
    const digest = sha256(bytes);
    const match = last.trusted ? await this.issued([digest, ...(last.claimedDigest ? [last.claimedDigest] : [])]) : null;
    return {
      issued_here: !!match,
      kind: match?.kind ?? null,
      process_id: match?.processId ?? null,
      intact: !!match && match.sha256 === digest && last.valid && last.coversWholeFile,
      signature: { valid: last.valid && last.trusted, level: last.level, signed_at: last.signedAt?.toISOString() ?? null },
    };
  }

  private async check(bytes: Buffer): Promise<PdfSignatureCheck[]> {
    const chain = await this.key.chain();
    return checkPdfSignatures(bytes, chain.certificates.slice(-1));
  }

  /** Whether the file passes: its last seal valid under our chain, over all of it, and it is the file recorded. */
  private async sealed(bytes: Buffer, recordedSha256: string | null | undefined): Promise<boolean> {
    const last = (await this.check(bytes)).at(-1);
    return !!last && last.valid && last.trusted && last.coversWholeFile && sha256(bytes) === recordedSha256;
  }

  private async issued(digests: string[]): Promise<{ kind: 'signed_document' | 'certificate'; processId: string; sha256: string } | null> {
    const contract = await this.ds.manager.createQueryBuilder(Contract, 'c').where('c.signed_sha256 = ANY(:d) OR c.signed_content_sha256 = ANY(:d)', { d: digests }).getOne();
    if (contract) return { kind: 'signed_document', processId: contract.processId, sha256: contract.signedSha256! };
    const [certificate] = await this.certificates.findByDigest(digests);
    return certificate ? { kind: 'certificate', processId: certificate.processId, sha256: certificate.sha256! } : null;
  }

  private async checkSignedDocument(m: EntityManager, tenantId: string, processId: string, events: EvidenceEvent[]): Promise<boolean | null> {
    const contract = await m.createQueryBuilder(Contract, 'c').where('c.process_id = :processId AND c.signed_document_id IS NOT NULL', { processId }).getOne();
    if (!contract) return null;
    const recorded = events.find((e) => e.type === 'signature.completed')?.payload.signed_sha256;
    if (recorded !== contract.signedSha256) return false;
    const document = await this.documents.find(tenantId, contract.signedDocumentId!);
    if (!document) return false;
    return this.sealed(Buffer.from(await this.documents.bytes(tenantId, document.id)), contract.signedSha256);
  }

  private async checkCertificate(processId: string, events: EvidenceEvent[]): Promise<boolean | null> {
    const certificate = await this.certificates.readyOf(processId);
    if (!certificate) return null;
    const recorded = events.find((e) => e.type === 'certificate.issued')?.payload.sha256;
    if (recorded !== certificate.sha256) return false;
    const bytes = await this.certificates.read(certificate);
    if (!(await this.sealed(bytes, certificate.sha256))) return false;
    // The evidence it carries is this chain, event for event, up to the seq it was made at.
    const attached = (await PDF.load(new Uint8Array(bytes))).attachments.get('evidence.json');
    if (!attached) return false;
    const stated = (JSON.parse(Buffer.from(attached).toString('utf8')) as { events: EvidenceEvent[] }).events;
    const same = (a: EvidenceEvent, b: EvidenceEvent | undefined) => !!b && canonicalEvent(a) === canonicalEvent(b) && a.prev_hash === b.prev_hash && a.hash === b.hash;
    return stated.length === certificate.chainSeq && stated.every((e, i) => same(e, events[i]));
  }
}
