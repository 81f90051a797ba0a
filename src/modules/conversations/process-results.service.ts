import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { AppError } from '../../common/errors/app-error.js';
import { paginate } from '../../common/http/pagination.js';
import { toE164 } from '../../common/phone/phone.js';
import { AnswerDto, EvidenceVerificationDto, ListProcessesQueryDto, ProcessDto, ProcessEvidenceDto } from './dto/process.dto.js';
import { EvidenceCheckpoints } from '../evidence/evidence-checkpoints.service.js';
import { CheckpointDto } from '../evidence/dto/checkpoint.dto.js';
import { EvidenceLog, GENESIS_HASH, verifyChain, type EvidenceEvent } from '../evidence/evidence-log.js';
import { ProcessAnswer } from './entities/process-answer.entity.js';
import { Process } from './entities/process.entity.js';
import { FollowUpsService } from '../reengagement/follow-ups.service.js';
import { FilesService } from '../messages/files.service.js';
import { contentUrl } from '../messages/files.service.js';

/**
 * More of a process's result, from a module above this one (the contract's documents, a one-time code's state): for
 * the given processes, the fields to add to each one's result (a process absent from the map gets none).
 */
export type ResultSection = (m: EntityManager, processIds: string[]) => Promise<Map<string, Record<string, unknown>>>;

/**
 * A check of a process's evidence from a module above (its signed contract, its certificate): true or false, or null
 * when it does not apply to the process. `events` is the chain as recorded.
 */
export type EvidenceCheck = (m: EntityManager, tenantId: string, processId: string, events: EvidenceEvent[]) => Promise<boolean | null>;

/** The results API's view of processes: the same document the result hooks carry. */
@Injectable()
export class ProcessResultsService {
  private readonly sections: ResultSection[] = [];
  private readonly evidenceChecks = new Map<string, EvidenceCheck>();

  constructor(
    @InjectRepository(Process) private readonly processes: Repository<Process>,
    private readonly followUps: FollowUpsService,
    private readonly files: FilesService,
    private readonly log: EvidenceLog,
    private readonly checkpoints: EvidenceCheckpoints,
  ) {}

  async get(tenantId: string, id: string): Promise<ProcessDto> {
    const process = await this.processes.findOneBy({ id, tenantId });
    if (!process) throw AppError.notFound('Process', id);
    return this.result(this.processes.manager, process);
  }

  async list(tenantId: string, q: ListProcessesQueryDto): Promise<{ data: ProcessDto[]; next_cursor: string | null }> {
    const qb = this.processes.createQueryBuilder('p').where('p.tenant_id = :tenantId', { tenantId });
    if (q.flow_id) qb.andWhere('p.flow_id = :flowId', { flowId: q.flow_id });
    if (q.status) qb.andWhere('p.status = :status', { status: q.status });
    if (q.phone) qb.andWhere('p.phone = :phone', { phone: toE164(q.phone) ?? q.phone });
    if (q.from) qb.andWhere('p.started_at >= :from', { from: new Date(q.from) });
    if (q.to) qb.andWhere('p.started_at < :to', { to: new Date(q.to) });
    const { items, next_cursor } = await paginate(qb, q);
    return { data: await this.results(this.processes.manager, items), next_cursor };
  }

  /** Adds fields to every process result (registered once, at start, by the module that owns them). */
  addSection(section: ResultSection): void {
    this.sections.push(section);
  }

  /** Adds a named check to every evidence verification (registered once, at start, by the module that owns it). */
  addEvidenceCheck(name: string, check: EvidenceCheck): void {
    this.evidenceChecks.set(name, check);
  }

  /** The process's evidence chain as recorded, with the latest checkpoint that covers it and its inclusion proof. */
  async evidence(tenantId: string, id: string): Promise<ProcessEvidenceDto> {
    const process = await this.processes.findOneBy({ id, tenantId });
    if (!process) throw AppError.notFound('Process', id);
    const m = this.processes.manager;
    const [events, inclusion] = await Promise.all([this.log.events(m, id), this.checkpoints.inclusion(m, tenantId, id)]);
    // Purged after retention: the tombstone keeps the head; the Merkle leaves (hashes only) stay, and so does the proof.
    const tombstone = process.purgedAt ? await this.log.tombstone(m, id) : null;
    return {
      process_id: id,
      events: tombstone ? [] : events,
      head: tombstone?.head ?? events.at(-1)?.hash ?? GENESIS_HASH,
      checkpoint: inclusion ? { ...CheckpointDto.of(inclusion.checkpoint), leaf_index: inclusion.leafIndex, seq: inclusion.seq } : null,
      inclusion_proof: inclusion ? inclusion.proof.map((p) => p.toString('hex')) : [],
      purged_at: tombstone?.purgedAt.toISOString() ?? null,
    };
  }

  /** Recomputes the chain; it must also end at the head the process row holds. */
  async verifyEvidence(tenantId: string, id: string): Promise<EvidenceVerificationDto> {
    const process = await this.processes.findOneBy({ id, tenantId });
    if (!process) throw AppError.notFound('Process', id);
    const events = await this.log.events(this.processes.manager, id);
    // Purged after retention: what is left is the tombstone, which must still end at the head the process holds.
    const tombstone = process.purgedAt ? await this.log.tombstone(this.processes.manager, id) : null;
    if (tombstone) {
      const intact = events.length === 0 && tombstone.seq === process.evidenceSeq && tombstone.head === (process.evidenceHead ?? GENESIS_HASH);
      // The leaves stay: the head the tombstone keeps must still prove into the signed checkpoint that covers it.
      const checkpoint = await this.checkpoints.checkProcess(this.processes.manager, tenantId, id, [{ seq: tombstone.seq, hash: tombstone.head }]);
      return {
        valid: intact && checkpoint !== false,
        broken_at: intact ? null : 1,
        checks: { chain: intact, checkpoint, signed_document: null, certificate: null },
        purged_at: tombstone.purgedAt.toISOString(),
      };
    }
    const chain = verifyChain(events);
    // Events cut off the end (or added past the head) show against the head on the process row.
    const headMatches = chain.valid && events.length === process.evidenceSeq && chain.head === (process.evidenceHead ?? GENESIS_HASH);
    const brokenAt = chain.brokenAt ?? (headMatches ? null : Math.min(events.length, process.evidenceSeq) + 1);
    const checks: Record<string, boolean | null> = {
      chain: brokenAt === null,
      checkpoint: await this.checkpoints.checkProcess(this.processes.manager, tenantId, id, events),
    };
    for (const [name, check] of this.evidenceChecks) checks[name] = await check(this.processes.manager, tenantId, id, events);
    const valid = Object.values(checks).every((c) => c !== false);
    return { valid, broken_at: brokenAt, checks: checks as unknown as EvidenceVerificationDto['checks'], purged_at: null };
  }

  /** The result of one of the tenant's processes by id, as of `m`'s transaction (null: not the tenant's). */
  async resultById(m: EntityManager, tenantId: string, id: string): Promise<ProcessDto | null> {
    const process = await m.findOneBy(Process, { id, tenantId });
    return process ? this.result(m, process) : null;
  }

  /** The whole result of a process, as of `m`'s transaction. */
  async result(m: EntityManager, p: Process): Promise<ProcessDto> {
    return (await this.results(m, [p]))[0];
  }

  /** Results of several processes with three queries in all (answers, their files, follow-ups), not three each. */
  private async results(m: EntityManager, processes: Process[]): Promise<ProcessDto[]> {
    if (processes.length === 0) return [];
    const ids = processes.map((p) => p.id);
    const answers = await m.find(ProcessAnswer, { where: { processId: In(ids) }, order: { id: 'ASC' } });
    const mediaIds = answers.map((a) => a.mediaFileId).filter((x): x is string => !!x);
    const media = await this.files.summaries(m, mediaIds);
    const followUps = await this.followUps.stateOf(ids, m);
    const extras = await Promise.all(this.sections.map((section) => section(m, ids)));
    return processes.map((p) => {
      const history: AnswerDto[] = answers
        .filter((a) => a.processId === p.id)
        .map((a) => {
          const file = media.find((f) => f.id === a.mediaFileId);
          return {
            step_id: a.stepId,
            step_type: a.stepType,
            value: a.value,
            normalized: a.normalized,
            valid: a.valid,
            error: a.error,
            media: file
              ? {
                  id: file.id,
                  status: file.status,
                  mime_type: file.mime_type,
                  sha256: file.sha256,
                  size_bytes: file.size_bytes,
                  content_url: file.status === 'stored' ? contentUrl(file.id) : null,
                }
              : null,
            answered_at: a.createdAt.toISOString(),
          };
        });
      return {
        process_id: p.id,
        status: p.status,
        failure_reason: p.failureReason,
        flow_id: p.flowId,
        flow_version: p.flowVersion,
        line_id: p.lineId,
        phone: p.phone,
        channel: 'whatsapp',
        origin: p.origin,
        origin_id: p.originId,
        current_step_id: p.currentStepId,
        started_at: p.startedAt.toISOString(),
        finished_at: p.finishedAt?.toISOString() ?? null,
        expires_at: p.expiresAt.toISOString(),
        answers: Object.fromEntries(history.map((h) => [h.step_id, h])),
        history,
        follow_up: followUps.get(p.id) ?? null,
        ...Object.assign({}, ...extras.map((extra) => extra.get(p.id))),
      };
    });
  }
}
