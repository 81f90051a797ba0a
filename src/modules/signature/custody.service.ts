import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { DataSource, EntityManager, In } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { toE164 } from '../../common/phone/phone.js';
import type { CronRun } from '../../common/workers/cron-run.js';
import { Workers } from '../../common/workers/workers.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { ProcessResultsService } from '../conversations/process-results.service.js';
import { DocumentsService } from '../documents/documents.service.js';
import { MessagesService } from '../messages/messages.service.js';
import { DEFAULT_EVIDENCE_RETENTION_DAYS, TenantsService } from '../tenants/tenants.service.js';
import { CertificatesService } from './certificates.service.js';
import { Contract } from './entities/contract.entity.js';
import { LegalHold } from './entities/legal-hold.entity.js';
import { OtpChallenge } from './entities/otp-challenge.entity.js';
import { CertificateErrorCode } from './signature.errors.js';
import { maskPhone } from './texts.js';

const DAY_MS = 86_400_000;
/** Processes purged per transaction: small, so a purge never holds many locks or a long transaction. */
const PURGE_BATCH = 50;

/** The `custody` part of a process result. */
export interface CustodyState {
  legal_hold: { reason: string | null; held_at: string } | null;
  retained_until: string | null;
  purged_at: string | null;
}

/**
 * Custody of evidence: every finished process is kept for its tenant's `evidence_retention_days` (5 years by default)
 * unless a legal hold keeps it longer; then a purge deletes its documents, payloads and personal data and leaves a
 * tombstone of its chain (the Merkle leaves, hashes only, stay). A person's erasure request deletes what is not in
 * custody and is recorded in the evidence of what is.
 */
@Injectable()
export class CustodyService {
  private readonly logger = new Logger(CustodyService.name);
  private readonly runs: CronRun;

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly conversations: ConversationsService,
    private readonly results: ProcessResultsService,
    private readonly tenants: TenantsService,
    private readonly documents: DocumentsService,
    private readonly messages: MessagesService,
    private readonly certificates: CertificatesService,
    workers: Workers,
  ) {
    this.runs = workers.cron(CustodyService.name, () => this.purgeDue());
    results.addSection(async (m, ids) => {
      const states = await this.states(m, ids);
      return new Map([...states].map(([id, custody]) => [id, { custody }]));
    });
  }

  /** Hourly; safe on every instance (the candidates are claimed with SKIP LOCKED). */
  @Interval(3_600_000)
  tick(): Promise<void> {
    return this.runs.run();
  }

  async hold(tenantId: string, processId: string, reason: string | null): Promise<CustodyState> {
    return this.ds.transaction(async (m) => {
      await this.custodial(m, tenantId, processId);
      const existing = await m.findOneBy(LegalHold, { processId });
      if (existing) {
        if (existing.reason !== reason) await m.update(LegalHold, { processId }, { reason });
      } else {
        await m.insert(LegalHold, { processId, tenantId, reason, heldAt: this.clock.now() });
      }
      await this.conversations.recordEvidence(m, processId, [{ type: 'custody.legal_hold_set', payload: { reason } }]);
      return (await this.states(m, [processId])).get(processId)!;
    });
  }

  async release(tenantId: string, processId: string): Promise<CustodyState> {
    return this.ds.transaction(async (m) => {
      await this.custodial(m, tenantId, processId);
      const released = await m.delete(LegalHold, { processId });
      if (released.affected) await this.conversations.recordEvidence(m, processId, [{ type: 'custody.legal_hold_released', payload: {} }]);
      return (await this.states(m, [processId])).get(processId)!;
    });
  }

  /** One purge round over every tenant: finished processes past their retention and under no hold. Returns how many. */
  async purgeDue(): Promise<number> {
    let total = 0;
    for (const tenant of await this.tenants.allSettings()) {
      const days = tenant.settings.evidence_retention_days ?? DEFAULT_EVIDENCE_RETENTION_DAYS;
      const cutoff = new Date(this.clock.now().getTime() - days * DAY_MS);
      const held = (await this.ds.manager.find(LegalHold, { where: { tenantId: tenant.id }, select: { processId: true } })).map((h) => h.processId);
      for (;;) {
        const purged = await this.ds.transaction(async (m) => {
          const due = await this.conversations.purgeCandidates(m, tenant.id, cutoff, held, PURGE_BATCH);
          for (const process of due) await this.purgeOne(m, process);
          return due.length;
        });
        total += purged;
        if (purged < PURGE_BATCH) break;
      }
    }
    if (total) this.logger.log({ purged: total }, 'purged the evidence of processes past their retention');
    return total;
  }

  /**
   * A person's erasure request: what is not in custody goes now (their messages outside any process, blanked and
   * masked, with their media); every process of theirs, in custody, records the request in its evidence and keeps it
   * until its retention ends. Opt-in and opt-out records stay: they are the legal basis of (not) sending.
   */
  async erase(tenantId: string, phone: string): Promise<{ phone: string; erased_messages: number; kept_in_custody: Array<{ process_id: string; retained_until: string | null }> }> {
    const e164 = toE164(phone);
    if (!e164) throw AppError.validation('phone', 'phone must be a phone number with its country code, e.g. +573001234567');
    return this.ds.transaction(async (m) => {
      const erased = await this.messages.eraseLoose(m, tenantId, e164, maskPhone(e164));
      const processes = (await this.conversations.processesOf(m, tenantId, e164)).filter((p) => !p.purgedAt);
      for (const p of processes) await this.conversations.recordEvidence(m, p.id, [{ type: 'privacy.erasure_requested', payload: { erased_messages: erased } }]);
      const states = await this.states(
        m,
        processes.map((p) => p.id),
      );
      return {
        phone: maskPhone(e164),
        erased_messages: erased,
        kept_in_custody: processes.map((p) => ({ process_id: p.id, retained_until: states.get(p.id)?.retained_until ?? null })),
      };
    });
  }

  private async purgeOne(m: EntityManager, process: Awaited<ReturnType<ConversationsService['purgeCandidates']>>[number]): Promise<void> {
    await this.conversations.purge(m, process, maskPhone(process.phone));
    for (const c of await m.findBy(Contract, { processId: process.id })) {
      if (c.signedDocumentId) await this.documents.remove(m, process.tenantId, c.signedDocumentId);
      await m.update(Contract, { processId: c.processId, stepId: c.stepId }, { signerName: null, signingError: null });
    }
    await m.delete(OtpChallenge, { processId: process.id });
    await this.certificates.purge(m, process.id);
  }

  /** The tenant's process, refused once its evidence is purged. */
  private async custodial(m: EntityManager, tenantId: string, processId: string): Promise<void> {
    const end = (await this.conversations.endsOf(m, [processId])).get(processId);
    if (!end || end.tenantId !== tenantId) throw AppError.notFound('Process', processId);
    if (end.purgedAt) throw new AppError(HttpStatus.GONE, CertificateErrorCode.EVIDENCE_PURGED, `The evidence of process ${processId} was purged after its retention`);
  }

  private async states(m: EntityManager, ids: string[]): Promise<Map<string, CustodyState>> {
    const [ends, holds] = await Promise.all([this.conversations.endsOf(m, ids), ids.length ? m.findBy(LegalHold, { processId: In(ids) }) : Promise.resolve([])]);
    const retention = new Map<string, number>();
    const out = new Map<string, CustodyState>();
    for (const [id, end] of ends) {
      if (!retention.has(end.tenantId)) retention.set(end.tenantId, (await this.tenants.settingsOf(end.tenantId)).evidence_retention_days ?? DEFAULT_EVIDENCE_RETENTION_DAYS);
      const hold = holds.find((h) => h.processId === id);
      out.set(id, {
        legal_hold: hold ? { reason: hold.reason, held_at: hold.heldAt.toISOString() } : null,
        retained_until: end.finishedAt ? new Date(end.finishedAt.getTime() + retention.get(end.tenantId)! * DAY_MS).toISOString() : null,
        purged_at: end.purgedAt?.toISOString() ?? null,
      });
    }
    return out;
  }
}
