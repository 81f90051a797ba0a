import { Injectable, Logger } from '@nestjs/common';
import { databaseUnavailable } from '../../database/pg-errors.js';
import { queryReturning } from '../../database/sql.js';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { Metrics } from '../../common/metrics/metrics.js';
import { AppConfig } from '../../config/app-config.js';
import type { Counter } from 'prom-client';
import type { WorkerLoop } from '../../common/workers/worker-loop.js';
import { Workers } from '../../common/workers/workers.js';
import { parseWellFormedJson } from '../../common/text/well-formed-json.js';
import { WhatsappProviders } from '../../whatsapp/whatsapp-providers.js';
import type { InboundMessageEvent, WebhookEvent } from '../../whatsapp/whatsapp.types.js';
import { WriteBehind } from '../../database/write-behind.js';
import { ConversationsService, userKey, type UserState } from '../conversations/conversations.service.js';
import { InboundChain } from '../conversations/inbound-chain.js';
import { EvidenceLog } from '../evidence/evidence-log.js';
import { HooksService } from '../hooks/hooks.service.js';
import { MessageDto } from '../messages/dto/message.dto.js';
import { MessagesService, type RecordedInbound } from '../messages/messages.service.js';
import { SendQueueService } from '../messages/send-queue.service.js';
import { ConsentsService } from '../outbounds/consents.service.js';
import { TemplatesService } from '../templates/templates.service.js';
import { LinesService } from '../tenants/lines.service.js';
import type { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import { WebhookInboxService } from './webhook-inbox.service.js';

/** Events claimed, and applied in one transaction. */
const BATCH = 200;
const LEASE_MS = 60_000;
/** A status can arrive before the send that caused it is recorded; such events are retried for a while. */
const MAX_ATTEMPTS = 8;

interface StoredEvent {
  id: string;
  source: 'cloud_api' | 'bsp' | 'sandbox';
  line_id: string | null;
  raw: string;
  attempts: number;
  user_key: string | null;
}

interface Routed {
  /** The stored call the event came in. */
  row: StoredEvent;
  line: WhatsappLine;
  ev: WebhookEvent;
  summary: Summary;
}

/** A user message, and how it was recorded. */
interface RoutedMessage extends Routed {
  ev: InboundMessageEvent;
  recorded?: RecordedInbound;
}

const isMessage = (r: Routed): r is RoutedMessage => r.ev.kind === 'message';

/** An event of a batch that took longer than its budget: the batch is rolled back and applied again without it. */
class OverBudget extends Error {
  constructor(
    readonly row: StoredEvent,
    ms: number,
  ) {
    super(`took ${Math.round(ms)} ms to apply, over its budget in a batch: retried on its own`);
  }
}

const emptySummary = (): Summary => ({ messages: 0, duplicates: 0, statuses: 0, updates: 0, ignored: [], unresolved: [] });

interface Summary {
  messages: number;
  duplicates: number;
  statuses: number;
  /** Template status changes and consent events (opt-out/opt-in) applied. */
  updates: number;
  ignored: string[];
  unresolved: string[];
}

/**
 * Processes stored webhook calls, oldest first, a claimed batch in one transaction. Claims use FOR UPDATE SKIP LOCKED
 * with a lease, so several instances share the work and a crash mid-way leaves the row to be picked up again; applying an
 * event twice is harmless (wamid dedupe, monotonic statuses).
 */
@Injectable()
export class WebhookProcessorService {
  private readonly logger = new Logger(WebhookProcessorService.name);
  private readonly worker: WorkerLoop;
  private readonly overBudget: Counter;
  private readonly stranded = new Set<string>();

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly providers: WhatsappProviders,
    private readonly lines: LinesService,
    private readonly messages: MessagesService,
    private readonly templates: TemplatesService,
    private readonly consents: ConsentsService,
    private readonly conversations: ConversationsService,
    private readonly chain: InboundChain,
    private readonly sendQueue: SendQueueService,
    private readonly hooks: HooksService,
    private readonly config: AppConfig,
    private readonly evidence: EvidenceLog,
    inbox: WebhookInboxService,
    workers: Workers,
    metrics: Metrics,
  ) {
    this.overBudget = metrics.counter(
      'testigo_webhook_events_over_budget_total',
      'Webhook events put off (retried alone) because applying them took longer than WEBHOOK_EVENT_BUDGET_MS in a batch',
    );
    this.worker = workers.loop('WebhookProcessor', () => this.processPending(), 200);
    inbox.onStored(() => this.wake());
  }

  /** Cuts the idle wait short: new events were stored (here, or by another process of this instance). */
  wake(): void {
    this.worker.wake();
  }

  /** Processes one batch of due events; returns how many were claimed. */
  async processPending(limit = BATCH): Promise<number> {
    await this.releaseStranded();
    const now = this.clock.now();
    // Only the oldest pending event of each user is claimable: whichever processor takes it, a user's messages are
    // applied in the order they arrived, and a later one waits while an earlier one is in progress or retried.
    const rows = await queryReturning<StoredEvent>(
      this.ds,
      `UPDATE webhook_events SET locked_until = $2, attempts = attempts + 1 WHERE id IN (
         SELECT e.id FROM webhook_events e
          WHERE e.status = 'pending' AND (e.locked_until IS NULL OR e.locked_until <= $1)
            AND NOT EXISTS (SELECT 1 FROM webhook_events o WHERE o.user_key = e.user_key AND o.status = 'pending' AND o.id < e.id)
          ORDER BY e.id LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, source, line_id, raw, attempts, user_key`,
      [now, new Date(now.getTime() + LEASE_MS), limit],
    );
    // An event claimed again and again without ever finishing (the process died or hung on it each time) is given up,
    // so it cannot hold back its user's later events for ever.
    const abandoned = rows.filter((r) => r.attempts > MAX_ATTEMPTS + 1);
    for (const row of abandoned) await this.recordFailure(row, new Error(`abandoned after ${row.attempts - 1} claims without a result`));
    // Oldest first (a user has at most one claimed event; events without a user keep their order too).
    await this.processChunk(rows.filter((r) => !abandoned.includes(r)).sort((a, b) => (a.id < b.id ? -1 : 1)));
    return rows.length;
  }

  /**
   * Events this process claimed while the database went away: released (due at once, in order) as soon as it answers
   * again, instead of waiting out their lease.
   */
  private async releaseStranded(): Promise<void> {
    if (this.stranded.size === 0) return;
    const ids = [...this.stranded];
    await this.ds.query(`UPDATE webhook_events SET locked_until = NULL WHERE id = ANY($1) AND status = 'pending'`, [ids]);
    for (const id of ids) this.stranded.delete(id);
  }

  /** Processes until nothing is due (tests). */
  async drain(): Promise<void> {
    while ((await this.processPending()) > 0);
  }

  /**
   * Several users' events in one transaction (one commit instead of one each). If any of them fails, the chunk is
   * rolled back and its events are applied one by one, so a bad event only holds back itself. One that takes longer
   * than its budget is put off (retried alone, later) and the others are applied again without it.
   */
  private async processChunk(chunk: StoredEvent[]): Promise<void> {
    if (chunk.length === 0) return;
    try {
      await this.ds.transaction((m) => this.applyAndMark(m, chunk));
    } catch (err) {
      if (databaseUnavailable(err)) {
        // Nothing was applied and nothing can be recorded: the events' leases are released once the database is back.
        for (const row of chunk) this.stranded.add(row.id);
        throw err;
      }
      if (err instanceof OverBudget) {
        this.overBudget.inc();
        await this.recordFailure(err.row, err);
        return this.processChunk(chunk.filter((r) => r !== err.row));
      }
      if (chunk.length === 1) await this.recordFailure(chunk[0], err);
      else {
        this.logger.warn({ err, events: chunk.length }, 'a batch of webhook events failed; applying them one by one');
        for (const row of chunk) await this.processOne(row);
      }
    }
    // Replies queued by these events are committed: let the send queue take them now.
    this.sendQueue.wake();
  }

  private async processOne(row: StoredEvent): Promise<void> {
    try {
      await this.ds.transaction((m) => this.applyAndMark(m, [row]));
    } catch (err) {
      await this.recordFailure(row, err);
    }
  }

  /** Marks applied events processed (or ignored), or due again later when a part could not be resolved yet. */
  private async markDone(m: EntityManager, results: Array<{ row: StoredEvent; summary: Summary }>): Promise<void> {
    const now = this.clock.now();
    const retry = results.filter((r) => r.summary.unresolved.length > 0 && r.row.attempts < MAX_ATTEMPTS);
    const done = results.filter((r) => !retry.includes(r));
    if (retry.length > 0) {
      // What could be applied is committed; the whole event is applied again later (idempotently).
      await m.query(
        `UPDATE webhook_events e SET locked_until = r.retry_at, summary = r.summary
           FROM unnest($1::text[], $2::timestamptz[], $3::jsonb[]) AS r(id, retry_at, summary) WHERE e.id = r.id`,
        [retry.map((r) => r.row.id), retry.map((r) => this.retryAt(r.row)), retry.map((r) => JSON.stringify(r.summary))],
      );
    }
    if (done.length > 0) {
      const statusOf = (s: Summary) => (s.messages + s.duplicates + s.statuses + s.updates > 0 ? 'processed' : 'ignored');
      await m.query(
        `UPDATE webhook_events e SET status = r.status, processed_at = $4, summary = r.summary, locked_until = NULL
           FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS r(id, status, summary) WHERE e.id = r.id`,
        [done.map((r) => r.row.id), done.map((r) => statusOf(r.summary)), done.map((r) => JSON.stringify(r.summary)), now],
      );
    }
  }

  private async recordFailure(row: StoredEvent, err: unknown): Promise<void> {
    if (err instanceof OverBudget) this.logger.warn({ eventId: row.id, reason: err.message }, 'webhook event put off');
    else this.logger.error({ err, eventId: row.id }, 'webhook event failed');
    await this.ds.query(`UPDATE webhook_events SET status = $2, error = $3, locked_until = $4 WHERE id = $1`, [
      row.id,
      row.attempts >= MAX_ATTEMPTS ? 'failed' : 'pending',
      String((err as Error).message ?? err).slice(0, 1000),
      this.retryAt(row),
    ]);
  }

  private retryAt(row: StoredEvent): Date {
    return new Date(this.clock.now().getTime() + 2 ** row.attempts * 1000);
  }

  /**
   * Applies the events in one transaction with write-behind: their inbound messages are recorded with one INSERT and
   * their users' windows and processes prepared with two more statements, then each event is routed in order, and
   * the writes that follow go out as one statement per table.
   */
  private async applyAndMark(m: EntityManager, rows: StoredEvent[]): Promise<void> {
    WriteBehind.attach(m);
    const results = rows.map((row) => ({ row, summary: emptySummary() }));
    const routed: Routed[] = [];
    for (const { row, summary } of results) {
      for (const { line, ev } of await this.eventsOf(row, summary)) routed.push({ row, line, ev, summary });
    }
    const messages = routed.filter(isMessage);
    const recorded = await this.messages.recordInboundMany(m, messages);
    messages.forEach((r, i) => (r.recorded = recorded[i]));
    const fresh = messages.filter((r) => !r.recorded!.duplicate);
    const states = await this.conversations.prepare(
      m,
      fresh.map(({ line, ev }) => ({ lineId: line.id, ev })),
    );
    const budget = rows.length > 1 ? this.config.WEBHOOK_EVENT_BUDGET_MS : Infinity;
    const spent = new Map<StoredEvent, number>();
    for (const r of routed) {
      const started = performance.now();
      if (isMessage(r)) await this.handleMessage(m, r.line, r.ev, r.recorded!, states, r.summary);
      else await this.route(m, r.line, r.ev, r.summary);
      const ms = (spent.get(r.row) ?? 0) + performance.now() - started;
      if (ms > budget) throw new OverBudget(r.row, ms);
      spent.set(r.row, ms);
    }
    await this.markDone(m, results);
  }

  /** A stored call's events, each with the line it is about (events no line of the signature covers are ignored). */
  private async eventsOf(row: StoredEvent, summary: Summary): Promise<Array<{ line: WhatsappLine; ev: WebhookEvent }>> {
    let body: unknown;
    try {
      body = parseWellFormedJson(row.raw);
    } catch {
      summary.ignored.push('body is not JSON');
      return [];
    }
    // The line whose secret verified the call (BSP and sandbox calls are about that line only).
    const verified = row.line_id ? await this.lines.findById(row.line_id) : null;
    const out: Array<{ line: WhatsappLine; ev: WebhookEvent }> = [];
    for (const ev of this.providers.for({ provider: row.source }).parseWebhook(body)) {
      const line = row.source === 'cloud_api' ? await this.lineOf(ev, verified) : verified;
      if (line) out.push({ line, ev });
      else summary.ignored.push(`${ev.kind}: unknown line, or a line the signature does not cover`);
    }
    return out;
  }

  /**
   * The line an event of a Cloud API call is about. A call names its lines itself, so an event counts only for a line
   * signed with the same app secret as the line that verified the call: a tenant's secret never vouches for another
   * tenant's lines.
   */
  private async lineOf(ev: WebhookEvent, verified: WhatsappLine | null): Promise<WhatsappLine | null> {
    const secret = verified?.secrets.app_secret;
    if (!secret) return null;
    const covered = (l: WhatsappLine | null) => (l && l.secrets.app_secret === secret ? l : null);
    if (ev.kind === 'template_status') return (await this.lines.findByWabaId(ev.wabaId)).find((l) => covered(l)) ?? null;
    return ev.phoneNumberId ? covered(await this.lines.findByPhoneNumberId(ev.phoneNumberId)) : null;
  }

  /** A user message, already recorded: through the inbound chain (consent keywords, invitation taps, exit keywords, the engine). */
  private async handleMessage(
    m: EntityManager,
    line: WhatsappLine,
    ev: InboundMessageEvent,
    { message, duplicate, mediaFileId }: RecordedInbound,
    states: Map<string, UserState>,
    summary: Summary,
  ): Promise<void> {
    if (duplicate) {
      summary.duplicates++;
      return;
    }
    summary.messages++;
    const state = states.get(userKey(line.id, message.phone))!;
    await this.chain.apply({ manager: m, line, ev, message, mediaFileId, phone: message.phone, state });
  }

  /** Hands each other normalised event to the module that owns it. */
  private async route(m: EntityManager, line: WhatsappLine, ev: WebhookEvent, summary: Summary): Promise<void> {
    switch (ev.kind) {
      case 'message':
        throw new Error('messages are applied by handleMessage');
      case 'status': {
        // On the line of this event only: a signature vouches for its own lines' messages, never for another's.
        const applied = await this.messages.applyStatus(m, line.id, ev);
        if (!applied) {
          summary.unresolved.push(`status ${ev.status} of unknown ${ev.wamid}`);
          return;
        }
        summary.statuses++;
        if (applied.changed) {
          await this.hooks.emit(m, { tenantId: applied.tenantId, type: 'message.status', data: async () => MessageDto.from(await applied.message()) });
          if (applied.conversationId) {
            await this.evidence.defer(m, [
              {
                tenantId: applied.tenantId,
                processId: applied.conversationId,
                type: 'message.status',
                occurredAt: ev.timestamp,
                payload: { message_id: applied.id, status: ev.status, error_code: ev.error?.code ?? null },
              },
            ]);
          }
        }
        // A send refused as a marketing opt-out (131050) is an opt-out of the user it was sent to, on its line.
        if (await this.consents.handleFailedStatus(m, line, applied.phone, ev)) summary.updates++;
        return;
      }
      case 'template_status': {
        const template = await this.templates.applyStatusEvent(m, ev, line.tenantId);
        if (template) summary.updates++;
        else summary.ignored.push(`template_status: unknown template ${ev.providerTemplateId}`);
        return;
      }
      case 'opt_out':
      case 'opt_in':
        await this.consents.handlePreference(m, line, ev);
        summary.updates++;
        return;
      case 'ignored':
        summary.ignored.push(ev.reason);
        return;
      default:
        summary.ignored.push(`${(ev as { kind: string }).kind}: not handled`);
    }
  }
}
