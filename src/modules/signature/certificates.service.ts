import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { GiveUp } from '../../common/jobs/job-outcomes.js';
import { Jobs } from '../../common/jobs/jobs.service.js';
import { AppConfig } from '../../config/app-config.js';
import { WriteBehind, type BatchStatement } from '../../database/write-behind.js';
import { PdfSigning } from '../../signing/pdf-signing.service.js';
import { FILE_STORE, type FileStore } from '../../storage/file-store.port.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import type { ProcessDto, ProcessEvidenceDto } from '../conversations/dto/process.dto.js';
import { ProcessResultsService } from '../conversations/process-results.service.js';
import { FlowsService } from '../flows/flows.service.js';
import { HooksService } from '../hooks/hooks.service.js';
import { LinesService } from '../tenants/lines.service.js';
import { TenantsService } from '../tenants/tenants.service.js';
import type { CertificateModel } from './certificate-pdf.js';
import { CertificateRenderer } from './certificate-renderer.js';
import type { ContractDocuments } from './contracts.service.js';
import { EvidenceCertificate } from './entities/evidence-certificate.entity.js';
import { CertificateErrorCode } from './signature.errors.js';
import { maskPhone } from './texts.js';

/** The job queue that makes a finished process's certificate of evidence. */
export const EVIDENCE_CERTIFICATE = 'evidence.certificate';

interface CertificateJob {
  processId: string;
  tenantId: string;
}

/** A pending certificate row per ended process (one statement for all of a transaction's; a second ask does nothing). */
const REQUEST_CERTIFICATES: BatchStatement<{ processId: string; tenantId: string; at: Date }> = {
  sql: `INSERT INTO evidence_certificates (process_id, tenant_id, state, created_at, updated_at)
        SELECT p, t, 'pending', a, a FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS r (p, t, a)
        ON CONFLICT (process_id) DO NOTHING`,
  params: (rows) => [rows.map((r) => r.processId), rows.map((r) => r.tenantId), rows.map((r) => r.at)],
};

/** Like signing: a time-stamping authority that is down is retried for about a day. */
const MAKING = { maxAttempts: 16, backoff: { baseMs: 5_000, capMs: 2 * 3_600_000 } };

/** What GET …/certificate.pdf finds: the stored certificate, or how long to wait for it. */
export type CertificateLookup = { ready: true; certificate: EvidenceCertificate } | { ready: false; retryAfterSeconds: number };

/**
 * The certificate of evidence: when a process ends (any end), a job states the whole process — who, what, the
 * documents and their hashes, consent and one-time code, every evidence event with its hash, the chain head and the
 * checkpoint — in a PDF/A-3b with the evidence JSON attached, seals it (PAdES, B-T with a TSA), keeps it in the file
 * store, records `certificate.issued` in the chain and sends the `evidence.certificate_ready` hook.
 */
@Injectable()
export class CertificatesService {
  private readonly logger = new Logger(CertificatesService.name);

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly jobs: Jobs,
    private readonly conversations: ConversationsService,
    private readonly results: ProcessResultsService,
    private readonly flows: FlowsService,
    private readonly tenants: TenantsService,
    private readonly lines: LinesService,
    private readonly hooks: HooksService,
    private readonly signing: PdfSigning,
    private readonly renderer: CertificateRenderer,
    @Inject(FILE_STORE) private readonly store: FileStore,
  ) {
    jobs.register<CertificateJob>(EVIDENCE_CERTIFICATE, (job) => this.make(job), {
      ...MAKING,
      concurrency: 2,
      // Made while the instance is quiet, or at the latest 10 minutes late: answering people comes first. Rendering
      // also waits for idle CPU (CertificateRenderer), so a claimed job can wait long for it.
      background: { maxDelayMs: 10 * 60_000 },
      leaseMs: 30 * 60_000,
      onGiveUp: (m, job, failure) => this.givenUp(m, job, failure.error),
    });
    conversations.onFinish((m, process) => this.request(m, process.id, process.tenantId));
  }

  /**
   * Asks for the certificate of a process that has just ended (in its transaction; once per process). Both writes
   * go with the transaction's next statement: the engine ends processes inside batches of many users' messages,
   * where a round trip of its own per ended process cost the conversations benchmark a third of its answers/s.
   */
  async request(m: EntityManager, processId: string, tenantId: string): Promise<void> {
    await WriteBehind.batch(m, REQUEST_CERTIFICATES, { processId, tenantId, at: this.clock.now() });
    await this.jobs.enqueue<CertificateJob>(m, EVIDENCE_CERTIFICATE, { processId, tenantId }, { key: processId });
  }

  /** Runs the due certificates once (tests, tools). */
  makeDue(): Promise<number> {
    return this.jobs.runDue(EVIDENCE_CERTIFICATE, 10);
  }

  /** The certificate of one of the tenant's processes: 409 before the end, not ready yet while it is being made. */
  async find(tenantId: string, processId: string): Promise<CertificateLookup> {
    const process = await this.results.resultById(this.ds.manager, tenantId, processId);
    if (!process) throw AppError.notFound('Process', processId);
    if (process.status === 'pending') {
      throw new AppError(HttpStatus.CONFLICT, CertificateErrorCode.PROCESS_NOT_FINISHED, `Process ${processId} has not finished: its certificate is made when it ends`);
    }
    const row = await this.ds.manager.findOneBy(EvidenceCertificate, { processId, tenantId });
    if (row?.state === 'ready') return { ready: true, certificate: row };
    if (row?.state === 'purged') {
      throw new AppError(HttpStatus.GONE, CertificateErrorCode.EVIDENCE_PURGED, `The evidence of process ${processId} was purged after its retention`);
    }
    if (row?.state === 'failed') {
      throw new AppError(HttpStatus.CONFLICT, CertificateErrorCode.CERTIFICATE_FAILED, `The certificate of process ${processId} could not be made`, { error: row.error });
    }
    // A process that ended before certificates existed gets one now.
    if (!row) await this.ds.transaction((m) => this.request(m, processId, tenantId));
    return { ready: false, retryAfterSeconds: 5 };
  }

  /** The certificate's bytes as stored. */
  open(certificate: EvidenceCertificate): ReturnType<FileStore['open']> {
    return this.store.open(certificate.fileKey!);
  }

  read(certificate: EvidenceCertificate): Promise<Buffer> {
    return this.store.read(certificate.fileKey!);
  }

  /** Ready certificates whose file or seal has the given SHA-256 (a PDF handed in for verification). */
  findByDigest(digests: string[]): Promise<EvidenceCertificate[]> {
    return this.ds.manager.createQueryBuilder(EvidenceCertificate, 'c').where(`c.state = 'ready' AND (c.sha256 = ANY(:d) OR c.content_sha256 = ANY(:d))`, { d: digests }).getMany();
  }

  async readyOf(processId: string): Promise<EvidenceCertificate | null> {
    return this.ds.manager.findOneBy(EvidenceCertificate, { processId, state: 'ready' });
  }

  /** Deletes a process's certificate (custody purge), in `m`'s transaction; its bytes are its own (no other file has them). */
  async purge(m: EntityManager, processId: string): Promise<void> {
    const row = await m.findOneBy(EvidenceCertificate, { processId });
    if (!row) return;
    await m.update(EvidenceCertificate, { processId }, { state: 'purged', fileKey: null, updatedAt: this.clock.now() });
    if (row.fileKey) await this.store.delete(row.fileKey);
  }

  private async make(job: CertificateJob): Promise<void> {
    const row = await this.ds.manager.findOneBy(EvidenceCertificate, { processId: job.processId });
    if (!row) throw new GiveUp(`no certificate was asked for process ${job.processId}`);
    if (row.state === 'ready') return;
    const result = await this.results.resultById(this.ds.manager, job.tenantId, job.processId);
    if (!result) throw new GiveUp(`process ${job.processId} is gone`);
    const evidence = await this.results.evidence(job.tenantId, job.processId);
    const issuedAt = this.clock.now();
    let sealed;
    try {
      const pdf = await this.renderer.render(await this.model(job.tenantId, result, evidence, issuedAt));
      sealed = await this.signing.sign(pdf, { reason: `Certificate of evidence of process ${job.processId}`, signingTime: issuedAt });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await this.ds.manager.update(EvidenceCertificate, { processId: job.processId }, { error: reason.slice(0, 500), updatedAt: this.clock.now() });
      this.logger.warn({ processId: job.processId, error: reason }, 'making a certificate of evidence failed; it is retried');
      throw err;
    }
    const stored = await this.store.put(Buffer.from(sealed.bytes));
    await this.ds.transaction(async (m) => {
      const taken = await m
        .createQueryBuilder()
        .update(EvidenceCertificate)
        .set({
          state: 'ready',
          fileKey: stored.key,
          sha256: stored.sha256,
          contentSha256: sealed.contentSha256,
          sizeBytes: stored.sizeBytes,
          level: sealed.level,
          chainSeq: evidence.events.length,
          issuedAt,
          error: null,
          updatedAt: this.clock.now(),
        })
        .where(`process_id = :id AND state <> 'ready'`, { id: job.processId })
        .execute();
      if (!taken.affected) return;
      await this.conversations.recordEvidence(m, job.processId, [
        { type: 'certificate.issued', payload: { sha256: stored.sha256, level: sealed.level, chain_seq: evidence.events.length, head: evidence.head } },
      ]);
      await this.hooks.emit(m, {
        tenantId: job.tenantId,
        type: 'evidence.certificate_ready',
        flowId: result.flow_id,
        data: {
          process_id: job.processId,
          sha256: stored.sha256,
          level: sealed.level,
          issued_at: issuedAt.toISOString(),
          chain_seq: evidence.events.length,
          head: evidence.head,
          certificate_url: `/v1/processes/${job.processId}/evidence/certificate.pdf`,
        },
      });
    });
  }

  private async model(tenantId: string, result: ProcessDto, evidence: ProcessEvidenceDto, issuedAt: Date): Promise<CertificateModel> {
    const [tenant, flow, line] = await Promise.all([
      this.tenants.get(tenantId),
      this.flows.get(tenantId, result.flow_id, result.flow_version),
      this.lines.findByIdWithDeleted(result.line_id),
    ]);
    const extra = result as ProcessDto & {
      documents?: ContractDocuments | null;
      otp?: { channel: string; status: string; verified_at: string | null; attempts: number; resends: number } | null;
    };
    const documents: CertificateModel['documents'] = [];
    if (extra.documents) {
      const d = extra.documents;
      documents.push({
        label: 'Contract (original)',
        id: d.original.document_id,
        sha256: d.original.sha256,
        detail: d.original.confirmed_at ? `received and reviewed ${d.original.confirmed_at}` : 'not confirmed',
      });
      if (d.signed)
        documents.push({ label: 'Contract (signed)', id: d.signed.document_id, sha256: d.signed.sha256, detail: `PAdES ${d.signed.level}, signed ${d.signed.signed_at}` });
    }
    const consents = result.history.filter((a) => a.step_type === 'consent');
    const checkpoint = (evidence as ProcessEvidenceDto & { checkpoint?: { tree_size: number; root_hash: string; issued_at: string } | null; inclusion_proof?: string[] | null })
      .checkpoint;
    const proof = (evidence as { inclusion_proof?: string[] | null }).inclusion_proof ?? [];
    return {
      issuedAt,
      process: {
        id: result.process_id,
        status: result.status,
        failureReason: result.failure_reason,
        origin: result.origin,
        startedAt: result.started_at,
        finishedAt: result.finished_at,
      },
      tenant: { id: tenant.id, name: tenant.name },
      flow: { id: result.flow_id, name: flow.flow.name, version: result.flow_version },
      line: line?.phoneNumber ?? null,
      person: { maskedPhone: maskPhone(result.phone), signerName: null },
      documents,
      optIn: optInSummary(evidence.events[0]?.payload.opt_in),
      consent: consents.length ? consents.map((c) => `${c.step_id}: ${c.value ?? '—'} at ${c.answered_at}`).join('; ') : null,
      otp: extra.otp
        ? `${extra.otp.channel}, ${extra.otp.status}${extra.otp.verified_at ? ` at ${extra.otp.verified_at}` : ''}, ${extra.otp.attempts} wrong attempt(s), ${extra.otp.resends} resend(s) (the code itself is never kept)`
        : null,
      events: evidence.events,
      head: evidence.head,
      checkpoint: checkpoint ? { treeSize: checkpoint.tree_size, rootHash: checkpoint.root_hash, issuedAt: checkpoint.issued_at, inclusionProof: proof } : null,
      verificationUrl: `${this.config.PUBLIC_URL ?? `http://localhost:${this.config.PORT}`}/verify?process=${result.process_id}`,
      evidenceJson: Buffer.from(JSON.stringify(evidence, null, 2)),
    };
  }

  private async givenUp(m: EntityManager, job: CertificateJob, error: string): Promise<void> {
    await m.update(EvidenceCertificate, { processId: job.processId }, { state: 'failed', error: error.slice(0, 500), updatedAt: this.clock.now() });
  }
}

/** The opt-in of `process.started` in one line: an inbound message, or the invitation's send and the consents before it. */
function optInSummary(optIn: unknown): string | null {
  if (!optIn || typeof optIn !== 'object') return null;
  const o = optIn as { source?: string; message_id?: string; at?: string; send_id?: string; consents?: Array<{ source: string; occurred_at: string; consent_id: string }> };
  if (o.source === 'inbound_flow') return `the person wrote first (message ${o.message_id} at ${o.at})`;
  const consents = (o.consents ?? []).map((c) => `${c.source} ${c.occurred_at} (${c.consent_id})`).join('; ');
  return `invitation ${o.send_id}, sent under: ${consents || 'no recorded opt-in'}`;
}
