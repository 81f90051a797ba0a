import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { GiveUp } from '../../common/jobs/job-outcomes.js';
import { Jobs } from '../../common/jobs/jobs.service.js';
import { AppConfig } from '../../config/app-config.js';
import { appendSignaturePage } from '../../signing/signature-page.js';
import { PdfSigning } from '../../signing/pdf-signing.service.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { ProcessResultsService } from '../conversations/process-results.service.js';
import { DocumentsService, type DocumentInfo } from '../documents/documents.service.js';
import type { StepProcess } from '../flows/steps/step-type.js';
import { HooksService } from '../hooks/hooks.service.js';
import { MessagesService } from '../messages/messages.service.js';
import { OutboundsService } from '../outbounds/outbounds.service.js';
import { Contract } from './entities/contract.entity.js';
import { OtpService } from './otp.service.js';
import { CertificateErrorCode, ContractErrorCode } from './signature.errors.js';
import { contractLanguage, contractText, maskPhone } from './texts.js';

/** The job queue that signs a process's contract (a time-stamping authority that is down is retried here). */
export const CONTRACT_SIGN = 'contract.sign';

export interface ContractSignJob {
  processId: string;
  tenantId: string;
  /** The signature step, where the process waits. */
  stepId: string;
  /** The document step whose contract is signed. */
  documentStepId: string;
  language: string;
  text: string | null;
  signerNameStep: string | null;
}

/** Signing is retried for about a day (a time-stamping authority that is down), then the process fails. */
const SIGNING = { maxAttempts: 16, backoff: { baseMs: 5_000, capMs: 2 * 3_600_000 } };

/** The `documents` part of a process's result. */
export interface ContractDocuments {
  original: { document_id: string; sha256: string; confirmed_at: string | null };
  signed: { document_id: string; sha256: string; signed_at: string; level: string } | null;
  signing: { state: Contract['signingState']; error: string | null };
}

/**
 * The contract of a process: which document its `document` step sent (from the step, or from the invitation that
 * started it), the person's confirmation, and the signed copy. Signing runs as a job: the signature page is appended
 * to a copy, the whole is PAdES-signed, stored as a new document, and the first signed copy to be recorded is the only
 * one ever sent (a crash between signing and sending signs again, but never sends two different copies).
 */
@Injectable()
export class ContractsService {
  private readonly logger = new Logger(ContractsService.name);

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly jobs: Jobs,
    private readonly documents: DocumentsService,
    private readonly outbounds: OutboundsService,
    private readonly conversations: ConversationsService,
    private readonly results: ProcessResultsService,
    private readonly hooks: HooksService,
    private readonly messages: MessagesService,
    private readonly otp: OtpService,
    private readonly signing: PdfSigning,
  ) {
    jobs.register<ContractSignJob>(CONTRACT_SIGN, (job) => this.sign(job), {
      ...SIGNING,
      concurrency: 2,
      onGiveUp: (m, job, failure) => this.signingGivenUp(m, job, failure.error),
    });
    results.addSection((m, ids) => this.section(m, ids));
  }

  /** The document a `document` step sends: its own, else the one of the invitation that started the process. */
  async documentFor(m: EntityManager, process: StepProcess, fixed: string | undefined): Promise<{ document: DocumentInfo; signerName: string | null } | null> {
    const request = fixed
      ? { documentId: fixed, signerName: null }
      : process.origin === 'outbound' && process.originId
        ? await this.outbounds.contractOf(process.originId, m)
        : null;
    if (!request) return null;
    const document = await this.documents.find(process.tenantId, request.documentId);
    return document ? { document, signerName: request.signerName } : null;
  }

  /** The contract row of a document step that has just sent its document. */
  async recordSent(m: EntityManager, process: StepProcess, stepId: string, document: DocumentInfo, signerName: string | null): Promise<void> {
    const now = this.clock.now();
    await m.upsert(
      Contract,
      {
        processId: process.id,
        stepId,
        tenantId: process.tenantId,
        originalDocumentId: document.id,
        originalSha256: document.sha256,
        signerName,
        confirmedAt: null,
        signingState: 'none',
        signingError: null,
        signedDocumentId: null,
        signedSha256: null,
        signatureLevel: null,
        signedAt: null,
        createdAt: now,
        updatedAt: now,
      },
      ['processId', 'stepId'],
    );
  }

  async confirm(m: EntityManager, processId: string, stepId: string): Promise<void> {
    const now = this.clock.now();
    await m.update(Contract, { processId, stepId }, { confirmedAt: now, updatedAt: now });
  }

  find(m: EntityManager, processId: string, stepId: string): Promise<Contract | null> {
    return m.findOneBy(Contract, { processId, stepId });
  }

  /** Starts signing (a job, enqueued in the engine's transaction; one per process and step). */
  async startSigning(m: EntityManager, job: ContractSignJob): Promise<void> {
    await m.update(Contract, { processId: job.processId, stepId: job.documentStepId }, { signingState: 'signing', updatedAt: this.clock.now() });
    await this.jobs.enqueue<ContractSignJob>(m, CONTRACT_SIGN, job, { key: `${job.processId}:${job.stepId}` });
  }

  /** Runs the due signings once (tests, tools). */
  signDue(): Promise<number> {
    return this.jobs.runDue(CONTRACT_SIGN, 10);
  }

  /** The signed copy of the contract of a process of the tenant's. */
  async signedDocument(tenantId: string, processId: string): Promise<DocumentInfo> {
    const contracts = await this.ds.manager.find(Contract, { where: { processId, tenantId }, order: { updatedAt: 'DESC' } });
    if (contracts.length === 0) {
      const exists = await this.results.resultById(this.ds.manager, tenantId, processId);
      if (!exists) throw AppError.notFound('Process', processId);
    }
    const signed = contracts.find((c) => c.signedDocumentId);
    if (!signed) {
      throw new AppError(HttpStatus.CONFLICT, ContractErrorCode.DOCUMENT_NOT_SIGNED, `Process ${processId} has no signed document (yet)`, {
        signing_state: contracts[0]?.signingState ?? null,
      });
    }
    const document = await this.documents.find(tenantId, signed.signedDocumentId!);
    if (!document) throw new AppError(HttpStatus.GONE, CertificateErrorCode.EVIDENCE_PURGED, `The signed document of process ${processId} was purged after its retention`);
    return document;
  }

  private async sign(job: ContractSignJob): Promise<void> {
    const contract = await this.find(this.ds.manager, job.processId, job.documentStepId);
    if (!contract) throw new GiveUp(`process ${job.processId} has no contract at step ${job.documentStepId}`);
    if (!contract.signedDocumentId) {
      const signed = await this.makeSigned(job, contract);
      await this.ds.transaction(async (m) => {
        // Only the first signed copy to get here is kept: a second run (after a crash) finds it and sends that one.
        const taken = await m.update(
          Contract,
          { processId: job.processId, stepId: job.documentStepId, signedDocumentId: IsNull() },
          {
            signedDocumentId: signed.document.id,
            signedSha256: signed.document.sha256,
            signedContentSha256: signed.contentSha256,
            signatureLevel: signed.level,
            signedAt: signed.signedAt,
            signingState: 'signed',
            signingError: null,
            updatedAt: this.clock.now(),
          },
        );
        if (!taken.affected) return;
        await this.conversations.recordEvidence(m, job.processId, [
          {
            type: 'signature.completed',
            payload: {
              step_id: job.stepId,
              original_document_id: contract.originalDocumentId,
              original_sha256: contract.originalSha256,
              signed_document_id: signed.document.id,
              signed_sha256: signed.document.sha256,
              level: signed.level,
              signed_at: signed.signedAt.toISOString(),
            },
          },
        ]);
        await this.deliver(m, job);
      });
      return;
    }
    await this.ds.transaction((m) => this.deliver(m, job));
  }

  /** Sends the signed copy and moves the process on (when it still waits at the signature step), with the hook. */
  private async deliver(m: EntityManager, job: ContractSignJob): Promise<void> {
    const contract = (await m.findOne(Contract, { where: { processId: job.processId, stepId: job.documentStepId }, lock: { mode: 'pessimistic_write' } }))!;
    const document = (await this.documents.find(job.tenantId, contract.signedDocumentId!))!;
    const moved = await this.conversations.resume(m, job.processId, job.stepId, { kind: 'accept' }, [
      { kind: 'file', fileId: document.fileId, mediaType: 'document', filename: document.filename, caption: job.text ?? contractText(job.language, 'signed') },
    ]);
    if (!moved) return;
    const result = await this.results.resultById(m, job.tenantId, job.processId);
    if (result) await this.hooks.emit(m, { tenantId: job.tenantId, type: 'signature.completed', flowId: result.flow_id, data: result });
  }

  private async makeSigned(job: ContractSignJob, contract: Contract): Promise<{ document: DocumentInfo; level: string; signedAt: Date; contentSha256: string }> {
    const original = await this.documents.find(job.tenantId, contract.originalDocumentId);
    if (!original) throw new GiveUp(`document ${contract.originalDocumentId} is gone`);
    const result = await this.results.resultById(this.ds.manager, job.tenantId, job.processId);
    if (!result) throw new GiveUp(`process ${job.processId} is gone`);
    const answered = job.signerNameStep ? result.answers[job.signerNameStep] : undefined;
    const signerName = contract.signerName ?? answered?.normalized ?? answered?.value ?? (await this.messages.profileName(result.line_id, result.phone)) ?? maskPhone(result.phone);
    const verified = (await this.otp.latestOf(this.ds.manager, [job.processId])).get(job.processId);
    const now = this.clock.now();
    try {
      const withPage = await appendSignaturePage(await this.documents.bytes(job.tenantId, original.id), {
        signerName,
        maskedPhone: maskPhone(result.phone),
        signedAt: now,
        processId: job.processId,
        originalSha256: original.sha256,
        otp: verified?.verifiedAt ? { channel: verified.channel, verifiedAt: verified.verifiedAt } : null,
        verificationUrl: `${this.config.PUBLIC_URL ?? `http://localhost:${this.config.PORT}`}/verify?process=${job.processId}`,
        language: contractLanguage(job.language),
      });
      const signed = await this.signing.sign(withPage, { reason: `Signed by ${signerName} (process ${job.processId})`, signingTime: now });
      const stored = await this.documents.store(job.tenantId, signed.bytes, {
        title: `${original.title} (signed)`,
        filename: original.filename.replace(/(\.pdf)?$/i, '-signed.pdf'),
        derivedFrom: original.id,
      });
      return { document: stored, level: signed.level, signedAt: signed.signedAt, contentSha256: signed.contentSha256 };
    } catch (err) {
      // Visible on the process while the job waits to try again.
      const reason = err instanceof Error ? err.message : String(err);
      await this.ds.manager.update(Contract, { processId: job.processId, stepId: job.documentStepId }, { signingError: reason.slice(0, 500), updatedAt: this.clock.now() });
      this.logger.warn({ processId: job.processId, error: reason }, 'signing a contract failed; it is retried');
      throw err;
    }
  }

  private async signingGivenUp(m: EntityManager, job: ContractSignJob, error: string): Promise<void> {
    await m.update(Contract, { processId: job.processId, stepId: job.documentStepId }, { signingState: 'failed', signingError: error.slice(0, 500), updatedAt: this.clock.now() });
    await this.conversations.resume(m, job.processId, job.stepId, { kind: 'fail', reason: 'signature_failed' }, [
      { kind: 'text', body: contractText(job.language, 'signatureFailed') },
    ]);
  }

  /** `documents` and `otp` in every process result. */
  private async section(m: EntityManager, ids: string[]): Promise<Map<string, Record<string, unknown>>> {
    const contracts = await m.find(Contract, { where: { processId: In(ids) }, order: { createdAt: 'ASC' } });
    const codes = await this.otp.latestOf(m, ids);
    const out = new Map<string, Record<string, unknown>>();
    for (const id of ids) {
      const mine = contracts.filter((c) => c.processId === id);
      // The signed one if any, else the latest sent.
      const c = mine.find((x) => x.signedDocumentId) ?? mine.at(-1);
      const code = codes.get(id);
      out.set(id, {
        documents: c ? documentsOf(c) : null,
        otp: code ? OtpService.state(code) : null,
      });
    }
    return out;
  }
}

function documentsOf(c: Contract): ContractDocuments {
  return {
    original: { document_id: c.originalDocumentId, sha256: c.originalSha256, confirmed_at: c.confirmedAt?.toISOString() ?? null },
    signed:
      c.signedDocumentId && c.signedSha256 && c.signedAt && c.signatureLevel
        ? { document_id: c.signedDocumentId, sha256: c.signedSha256, signed_at: c.signedAt.toISOString(), level: c.signatureLevel }
        : null,
    signing: { state: c.signingState, error: c.signingError },
  };
}
