import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { newId } from '../../common/ids/ids.js';
import { queryReturning } from '../../database/sql.js';
import type { FlowSettings } from '../flows/flow-definition.js';
import { EvidenceLog } from '../evidence/evidence-log.js';
import { MessagesService, type EnqueueInput } from '../messages/messages.service.js';
import { FollowUp, type FollowUpAnswer, type FollowUpCancelReason } from './entities/follow-up.entity.js';
import { FollowUpStateDto } from './follow-up-state.dto.js';
import { followUpDueAt, followUpMessage, followUpsEnabled, followUpText, type FollowUpSettings } from './follow-up-rules.js';

export interface ScheduleFollowUpInput {
  tenantId: string;
  processId: string;
  lineId: string;
  /** The user's number, E.164. */
  phone: string;
  /** The question just asked and not yet answered. */
  stepId: string;
  /** When the question was sent (the inactivity clock starts here). */
  askedAt: Date;
  /** When WhatsApp's 24-hour window closes: the user's last message + 24 h. */
  windowClosesAt: Date;
  settings: FlowSettings | FollowUpSettings;
}

const COLUMNS = `id, tenant_id, process_id, line_id, phone, step_id, asked_at, due_at, window_closes_at, message, language, status,
  skip_reason, cancel_reason, sent_at, message_id, answer, answered_at, cancelled_at, created_at`;

/**
 * The cron's claim ($1 = now, $2 = batch size). It walks the partial index on due_at (scheduled rows only), so its
 * cost follows the rows due; rows another instance holds are skipped, not waited for.
 */
export const CLAIM_DUE_SQL = `SELECT ${COLUMNS} FROM follow_ups
  WHERE status = 'scheduled' AND due_at <= $1
  ORDER BY due_at LIMIT $2
  FOR UPDATE SKIP LOCKED`;

interface FollowUpRow {
  id: string;
  tenant_id: string;
  process_id: string;
  line_id: string;
  phone: string;
  step_id: string;
  asked_at: Date;
  due_at: Date;
  window_closes_at: Date;
  message: string;
  language: string;
  status: FollowUp['status'];
  skip_reason: FollowUp['skipReason'];
  cancel_reason: FollowUp['cancelReason'];
  sent_at: Date | null;
  message_id: string | null;
  answer: FollowUpAnswer | null;
  answered_at: Date | null;
  cancelled_at: Date | null;
  created_at: Date;
}

function toEntity(r: FollowUpRow): FollowUp {
  return Object.assign(new FollowUp(), {
    id: r.id,
    tenantId: r.tenant_id,
    processId: r.process_id,
    lineId: r.line_id,
    phone: r.phone,
    stepId: r.step_id,
    askedAt: r.asked_at,
    dueAt: r.due_at,
    windowClosesAt: r.window_closes_at,
    message: r.message,
    language: r.language,
    status: r.status,
    skipReason: r.skip_reason,
    cancelReason: r.cancel_reason,
    sentAt: r.sent_at,
    messageId: r.message_id,
    answer: r.answer,
    answeredAt: r.answered_at,
    cancelledAt: r.cancelled_at,
    createdAt: r.created_at,
  });
}

/**
 * Re-engagement follow-ups. The conversation engine calls the first five methods inside its own transaction (it
 * passes its EntityManager), so a follow-up is scheduled, cancelled or answered together with the step change that
 * causes it. `sendDue` is the cron's side.
 *
 * One follow-up per unanswered question: a (process, step) that already has a follow-up which is pending, was sent,
 * answered or skipped gets no other. Only one cancelled before it went out (the user answered first) does not count,
 * because the question was answered: asking the same step again (an invalid answer re-asked) is a new wait.
 */
@Injectable()
export class FollowUpsService {
  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly messages: MessagesService,
    private readonly evidence: EvidenceLog,
  ) {}

  /**
   * On ask: the engine has just sent question `stepId` and waits for the user. Returns null when the flow does not
   * enable follow-ups; else the follow-up that governs this question — a new `scheduled` one, a new `skipped` one
   * (its send time falls after the 24-hour window closes, so nothing will be sent), or the existing one when the
   * question already had its follow-up. A pending follow-up of another step of the process is cancelled (`answered`).
   */
  async schedule(manager: EntityManager, input: ScheduleFollowUpInput): Promise<FollowUp | null> {
    if (!followUpsEnabled(input.settings)) return null;
    const [existing] = await manager.query<FollowUpRow[]>(
      `SELECT ${COLUMNS} FROM follow_ups
       WHERE process_id = $1 AND step_id = $2 AND (status <> 'cancelled' OR sent_at IS NOT NULL)
       ORDER BY id DESC LIMIT 1`,
      [input.processId, input.stepId],
    );
    if (existing) return toEntity(existing);
    const now = this.clock.now();
    await this.close(manager, input.processId, 'answered', now, input.stepId);

    const dueAt = followUpDueAt(input.askedAt, input.settings);
    const skipped = dueAt.getTime() >= input.windowClosesAt.getTime();
    const language = input.settings.language ?? 'es';
    const inserted = await manager.query<FollowUpRow[]>(
      `INSERT INTO follow_ups (id, tenant_id, process_id, line_id, phone, step_id, asked_at, due_at, window_closes_at, message, language,
         status, skip_reason, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (process_id) WHERE status = 'scheduled' DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        newId('FUP'),
        input.tenantId,
        input.processId,
        input.lineId,
        input.phone,
        input.stepId,
        input.askedAt,
        dueAt,
        input.windowClosesAt,
        followUpText(input.settings),
        language,
        skipped ? 'skipped' : 'scheduled',
        skipped ? 'outside_24h_window' : null,
        now,
      ],
    );
    if (inserted.length) return toEntity(inserted[0]);
    // Another transaction scheduled one for this process meanwhile (the engine serialises per user, so rare).
    const [scheduled] = await manager.query<FollowUpRow[]>(`SELECT ${COLUMNS} FROM follow_ups WHERE process_id = $1 AND status = 'scheduled'`, [input.processId]);
    return scheduled ? toEntity(scheduled) : null;
  }

  /**
   * On user message (`answered`: anything the user writes answers the question first) and on process end
   * (`cancelled`): a scheduled follow-up will not be sent, and a sent one no longer awaits its yes/no. Returns how
   * many were closed. A yes/no tap on the pending follow-up goes to `recordAnswer` instead.
   */
  async cancel(manager: EntityManager, processId: string, reason: FollowUpCancelReason): Promise<number> {
    return this.close(manager, processId, reason, this.clock.now());
  }

  /** On user message: the sent follow-up of the process still awaiting its yes/no tap, if any. */
  async findPendingAnswer(manager: EntityManager, processId: string): Promise<FollowUp | null> {
    const [row] = await manager.query<FollowUpRow[]>(`SELECT ${COLUMNS} FROM follow_ups WHERE process_id = $1 AND status = 'sent' AND answer IS NULL ORDER BY id DESC LIMIT 1`, [
      processId,
    ]);
    return row ? toEntity(row) : null;
  }

  /**
   * On a yes/no tap of the pending follow-up: records it (status `answered`). The engine then re-sends the question
   * (yes) or fails the process with `user_cancelled` (no). Null when the follow-up no longer awaits an answer.
   */
  async recordAnswer(manager: EntityManager, followUpId: string, answer: FollowUpAnswer): Promise<FollowUp | null> {
    const [row] = await queryReturning<FollowUpRow>(
      manager,
      `UPDATE follow_ups SET status = 'answered', answer = $2, answered_at = $3
       WHERE id = $1 AND status = 'sent' AND answer IS NULL
       RETURNING ${COLUMNS}`,
      [followUpId, answer, this.clock.now()],
    );
    return row ? toEntity(row) : null;
  }

  /** For the results API: each process's latest follow-up; processes without one are absent from the map. */
  async stateOf(processIds: string[], manager: EntityManager = this.ds.manager): Promise<Map<string, FollowUpStateDto>> {
    const states = new Map<string, FollowUpStateDto>();
    if (processIds.length === 0) return states;
    const rows = await manager.query<FollowUpRow[]>(`SELECT DISTINCT ON (process_id) ${COLUMNS} FROM follow_ups WHERE process_id = ANY($1::text[]) ORDER BY process_id, id DESC`, [
      processIds,
    ]);
    for (const r of rows) states.set(r.process_id, FollowUpStateDto.from(toEntity(r)));
    return states;
  }

  /**
   * The cron's batch: claims up to `limit` due follow-ups (skipping rows another instance holds), and in the same
   * transaction queues their messages (one INSERT) and marks them sent — or skipped when WhatsApp's 24-hour window
   * has closed by now. Returns how many rows it claimed.
   */
  async sendDue(limit = 500): Promise<number> {
    return this.ds.transaction(async (m) => {
      const now = this.clock.now();
      const due = await m.query<FollowUpRow[]>(CLAIM_DUE_SQL, [now, limit]);
      if (due.length === 0) return 0;
      const open = due.filter((f) => now.getTime() < f.window_closes_at.getTime());
      const closed = due.filter((f) => now.getTime() >= f.window_closes_at.getTime());
      let queued: Array<{ id: string }> = [];
      if (open.length) {
        const inputs: EnqueueInput[] = open.map((f) => ({
          tenantId: f.tenant_id,
          lineId: f.line_id,
          phone: f.phone,
          message: followUpMessage(f.message, f.language),
          conversationId: f.process_id,
        }));
        queued = await this.messages.enqueueMany(m, inputs);
        await m.query(
          `UPDATE follow_ups f SET status = 'sent', sent_at = $3, message_id = v.message_id
           FROM unnest($1::text[], $2::text[]) AS v(id, message_id)
           WHERE f.id = v.id`,
          [open.map((f) => f.id), queued.map((q) => q.id), now],
        );
      }
      if (closed.length) {
        await m.query(`UPDATE follow_ups SET status = 'skipped', skip_reason = 'outside_24h_window' WHERE id = ANY($1::text[])`, [closed.map((f) => f.id)]);
      }
      await this.evidence.defer(m, [
        ...open.map((f, i) => ({
          tenantId: f.tenant_id,
          processId: f.process_id,
          type: 'follow_up.sent',
          occurredAt: now,
          payload: { follow_up_id: f.id, message_id: queued[i].id },
        })),
        ...closed.map((f) => ({
          tenantId: f.tenant_id,
          processId: f.process_id,
          type: 'follow_up.skipped',
          occurredAt: now,
          payload: { follow_up_id: f.id, reason: 'outside_24h_window' },
        })),
      ]);
      return due.length;
    });
  }

  private async close(manager: EntityManager, processId: string, reason: FollowUpCancelReason, now: Date, exceptStepId?: string): Promise<number> {
    const rows = await queryReturning<{ id: string }>(
      manager,
      `UPDATE follow_ups SET status = 'cancelled', cancel_reason = $2, cancelled_at = $3
       WHERE process_id = $1 AND (status = 'scheduled' OR (status = 'sent' AND answer IS NULL))
         AND ($4::text IS NULL OR step_id <> $4)
       RETURNING id`,
      [processId, reason, now, exceptStepId ?? null],
    );
    return rows.length;
  }
}
