import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { ProviderError } from '../../whatsapp/provider-error.js';
import { WhatsappProviders } from '../../whatsapp/whatsapp-providers.js';
import type { OutgoingMessage } from '../../whatsapp/whatsapp.types.js';
import { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import { lineCredentials } from '../tenants/lines.service.js';

const BATCH_LANES = 200;
const LEASE_MS = 60_000;
const MAX_ATTEMPTS = 8;
/** A send may start at most this late after its slot; later, it takes a new slot (keeps every 1-second window ≤ mps). */
const SLOT_TOLERANCE_MS = 50;
const IDLE_POLL_MS = 100;

interface QueuedRow {
  id: string;
  line_id: string;
  phone: string;
  content: OutgoingMessage;
  attempts: number;
  next_attempt_at: Date;
}

interface Outcome {
  id: string;
  status: 'queued' | 'sent' | 'failed';
  providerMessageId: string | null;
  nextAttemptAt: Date | null;
  errorCode: string | null;
  errorTitle: string | null;
}

/** A send that failed for good, handed to failure listeners with the batch's outcome write. */
export interface SendFailure {
  messageId: string;
  tenantId: string;
  lineId: string;
  /** E.164. */
  phone: string;
  code: string;
}

/** Reacts to definitive send failures inside the transaction that records them (e.g. 131050 → an opt-out). */
export type SendFailureListener = (manager: EntityManager, failures: SendFailure[]) => Promise<void>;

/** Delay before retry n (1-based): exponential with ±20 % jitter; WhatsApp's pair-rate limit asks for 4^n seconds. */
export function retryDelayMs(error: ProviderError, attempt: number, random = Math.random): number {
  const base = error.code === 'PAIR_RATE_LIMITED' ? 4 ** attempt * 1000 : Math.min(2 ** attempt * 1000, 15 * 60_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * The send queue's dispatcher. Outbound messages wait in `messages` (status `queued`). A tick leases a batch of
 * (line, user) lanes — one dispatcher per lane at a time, whichever instance — and sends each lane's messages in order.
 * Each line's throughput is paced through a send-slot row shared by all instances.
 */
@Injectable()
export class SendQueueService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SendQueueService.name);
  private readonly workerId = randomUUID();
  private running = false;
  private loop: Promise<void> | null = null;
  private lines = new Map<string, { line: WhatsappLine; at: number }>();
  private readonly failureListeners: SendFailureListener[] = [];

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly providers: WhatsappProviders,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.WORKERS_ENABLED) return;
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const sent = await this.tick();
        if (sent === 0) await sleep(IDLE_POLL_MS);
      } catch (err) {
        this.logger.error({ err }, 'send queue tick failed');
        await sleep(1000);
      }
    }
  }

  /**
   * Registers a listener for definitive failures. Higher modules register here so this module needs no knowledge
   * of them (the outbounds module records 131050 failures as opt-outs).
   */
  onFailures(listener: SendFailureListener): void {
    this.failureListeners.push(listener);
  }

  /** Sends everything due now; returns how many messages were handled. */
  async drain(): Promise<number> {
    let total = 0;
    for (let n = await this.tick(); n > 0; n = await this.tick()) total += n;
    return total;
  }

  /** One batch: lease due lanes, send their due messages in order, record outcomes, release the lanes. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    const lanes = await this.leaseDueLanes(now);
    if (lanes.length === 0) return 0;
    try {
      const rows: QueuedRow[] = await this.ds.query(
        `SELECT m.id, m.line_id, m.phone, m.content, m.attempts, m.next_attempt_at
           FROM messages m JOIN unnest($1::text[], $2::text[]) AS l(line_id, phone) ON m.line_id = l.line_id AND m.phone = l.phone
          WHERE m.status = 'queued' AND m.direction = 'outbound'
          ORDER BY m.id`,
        [lanes.map((l) => l.line_id), lanes.map((l) => l.phone)],
      );
      const byLane = new Map<string, QueuedRow[]>();
      for (const r of rows) {
        const key = `${r.line_id} ${r.phone}`;
        if (!byLane.has(key)) byLane.set(key, []);
        byLane.get(key)!.push(r);
      }
      // A lane stops at its first message not yet due (a retry waiting): later messages must not overtake it.
      const toSend = [...byLane.values()].map((lane) => {
        const stop = lane.findIndex((r) => r.next_attempt_at.getTime() > now.getTime());
        return stop === -1 ? lane : lane.slice(0, stop);
      });
      const slots = await this.reserveSlots(toSend.flat());
      const outcomes = (await Promise.all(toSend.map((lane) => this.sendLane(lane, slots)))).flat();
      const rowsById = new Map(rows.map((r) => [r.id, r]));
      const failures: SendFailure[] = [];
      for (const o of outcomes) {
        const row = rowsById.get(o.id);
        const line = row && this.lines.get(row.line_id)?.line;
        if (o.status === 'failed' && row && line) failures.push({ messageId: o.id, tenantId: line.tenantId, lineId: row.line_id, phone: row.phone, code: o.errorCode ?? '' });
      }
      await this.record(outcomes, failures);
      return outcomes.length;
    } finally {
      await this.ds.query(`UPDATE outbound_lanes SET locked_until = '-infinity' WHERE locked_by = $1`, [this.workerId]);
    }
  }

  private async leaseDueLanes(now: Date): Promise<Array<{ line_id: string; phone: string }>> {
    return this.ds.query(
      `INSERT INTO outbound_lanes (line_id, phone, locked_until, locked_by)
       SELECT DISTINCT ON (line_id, phone) line_id, phone, $2::timestamptz, $3 FROM (
         SELECT m.line_id, m.phone FROM messages m
          WHERE m.status = 'queued' AND m.next_attempt_at <= $1
            -- a lane whose head waits for a retry is not due, whatever comes after it
            AND NOT EXISTS (SELECT 1 FROM messages e WHERE e.line_id = m.line_id AND e.phone = m.phone
                              AND e.status = 'queued' AND e.id < m.id AND e.next_attempt_at > $1)
          ORDER BY m.next_attempt_at LIMIT $4) due
       ON CONFLICT (line_id, phone) DO UPDATE SET locked_until = EXCLUDED.locked_until, locked_by = EXCLUDED.locked_by
         WHERE outbound_lanes.locked_until < $1
       RETURNING line_id, phone`,
      [now, new Date(now.getTime() + LEASE_MS), this.workerId, BATCH_LANES * 4],
    );
  }

  /**
   * Reserves one send slot per message on its line's pacing row: slots are 1050/mps ms apart, so even a send that
   * starts up to SLOT_TOLERANCE_MS late keeps every 1-second window at or under the line's mps. Slot times come
   * from the database clock, shared by all instances; returned as local epoch ms.
   */
  private async reserveSlots(rows: QueuedRow[]): Promise<Map<string, number>> {
    const slots = new Map<string, number>();
    const perLine = new Map<string, QueuedRow[]>();
    for (const r of rows) {
      if (!perLine.has(r.line_id)) perLine.set(r.line_id, []);
      perLine.get(r.line_id)!.push(r);
    }
    for (const [lineId, lineRows] of perLine) {
      const line = await this.line(lineId);
      const spacing = (1000 + SLOT_TOLERANCE_MS) / (line?.throughputMps ?? 80);
      const first = await this.takeSlots(lineId, lineRows.length, spacing);
      lineRows.forEach((r, i) => slots.set(r.id, first + i * spacing));
    }
    return slots;
  }

  private async takeSlots(lineId: string, count: number, spacingMs: number): Promise<number> {
    const localBefore = Date.now();
    const [row]: Array<{ first_ms: string; db_now_ms: string }> = await this.ds.query(
      `INSERT INTO line_send_slots (line_id, next_slot_at) VALUES ($1, clock_timestamp() + make_interval(secs => $2 / 1000.0))
       ON CONFLICT (line_id) DO UPDATE
         SET next_slot_at = GREATEST(line_send_slots.next_slot_at, clock_timestamp()) + make_interval(secs => $2 / 1000.0)
       RETURNING extract(epoch FROM next_slot_at) * 1000 - $2 AS first_ms, extract(epoch FROM clock_timestamp()) * 1000 AS db_now_ms`,
      [lineId, count * spacingMs],
    );
    const offset = Number(row.db_now_ms) - (localBefore + Date.now()) / 2;
    return Number(row.first_ms) - offset;
  }

  private async sendLane(lane: QueuedRow[], slots: Map<string, number>): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const row of lane) {
      const outcome = await this.sendOne(row, slots.get(row.id)!);
      outcomes.push(outcome);
      if (outcome.status === 'queued') {
        // Retry later; the rest of this user's messages wait behind it.
        break;
      }
    }
    return outcomes;
  }

  private async sendOne(row: QueuedRow, slotAt: number): Promise<Outcome> {
    const line = await this.line(row.line_id);
    if (!line) return this.failed(row, 'LINE_REMOVED', 'The WhatsApp line was removed');
    for (;;) {
      const wait = slotAt - Date.now();
      if (wait > 0) await sleep(wait);
      if (Date.now() - slotAt <= SLOT_TOLERANCE_MS) break;
      slotAt = await this.takeSlots(line.id, 1, (1000 + SLOT_TOLERANCE_MS) / line.throughputMps);
    }
    try {
      const { providerMessageId } = await this.providers.for(line).send(lineCredentials(line), row.phone, row.content);
      return { id: row.id, status: 'sent', providerMessageId, nextAttemptAt: null, errorCode: null, errorTitle: null };
    } catch (err) {
      const error = err instanceof ProviderError ? err : new ProviderError('TRANSIENT', true, String(err));
      const attempt = row.attempts + 1;
      if (error.retryable && attempt < MAX_ATTEMPTS) {
        const next = new Date(this.clock.now().getTime() + retryDelayMs(error, attempt));
        return { id: row.id, status: 'queued', providerMessageId: null, nextAttemptAt: next, errorCode: error.code, errorTitle: error.message };
      }
      return this.failed(row, error.code, error.message);
    }
  }

  private failed(row: QueuedRow, code: string, title: string): Outcome {
    return { id: row.id, status: 'failed', providerMessageId: null, nextAttemptAt: null, errorCode: code, errorTitle: title };
  }

  /** One UPDATE for the whole batch. A status webhook that got there first is never overwritten. */
  private async record(outcomes: Outcome[], failures: SendFailure[] = []): Promise<void> {
    if (outcomes.length === 0) return;
    if (failures.length > 0 && this.failureListeners.length > 0) {
      await this.ds.transaction(async (m) => {
        await this.writeOutcomes(m, outcomes);
        for (const listener of this.failureListeners) await listener(m, failures);
      });
    } else {
      await this.writeOutcomes(this.ds.manager, outcomes);
    }
  }

  private async writeOutcomes(manager: EntityManager, outcomes: Outcome[]): Promise<void> {
    const now = this.clock.now();
    await manager.query(
      `UPDATE messages m SET
         status = CASE WHEN m.status = 'queued' THEN o.status ELSE m.status END,
         provider_message_id = COALESCE(o.pmid, m.provider_message_id),
         attempts = m.attempts + 1,
         next_attempt_at = o.next_at,
         sent_at = CASE WHEN o.status = 'sent' THEN COALESCE(m.sent_at, $7) ELSE m.sent_at END,
         failed_at = CASE WHEN o.status = 'failed' THEN $7 ELSE m.failed_at END,
         error_code = o.code,
         error_title = o.title
       FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[]) AS o(id, status, pmid, next_at, code, title)
       WHERE m.id = o.id`,
      [
        outcomes.map((o) => o.id),
        outcomes.map((o) => o.status),
        outcomes.map((o) => o.providerMessageId),
        outcomes.map((o) => o.nextAttemptAt),
        outcomes.map((o) => o.errorCode),
        outcomes.map((o) => o.errorTitle?.slice(0, 500) ?? null),
        now,
      ],
    );
  }

  /** Lines change rarely; a few seconds of caching keeps a query off every send. */
  private async line(id: string): Promise<WhatsappLine | null> {
    const cached = this.lines.get(id);
    if (cached && Date.now() - cached.at < 5000) return cached.line;
    const line = await this.ds.getRepository(WhatsappLine).findOneBy({ id });
    if (line) this.lines.set(id, { line, at: Date.now() });
    return line;
  }
}
