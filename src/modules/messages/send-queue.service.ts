import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, EntityManager, In } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import type { WorkerLoop } from '../../common/workers/worker-loop.js';
import { Workers } from '../../common/workers/workers.js';
import { ProviderError } from '../../whatsapp/provider-error.js';
import { WhatsappProviders } from '../../whatsapp/whatsapp-providers.js';
import type { OutgoingMessage } from '../../whatsapp/whatsapp.types.js';
import { AppError } from '../../common/errors/app-error.js';
import type { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import type { MediaFile } from './entities/media-file.entity.js';
import { FilesService } from './files.service.js';
import { MessageDto } from './dto/message.dto.js';
import { Message } from './entities/message.entity.js';
import { HooksService } from '../hooks/hooks.service.js';
import { LinesService, lineCredentials } from '../tenants/lines.service.js';
import { SendQueueMetrics } from './send-queue.metrics.js';

const BATCH_LANES = 200;
/**
 * How long a dispatcher holds its lanes; a tick's work is capped well below it (TICK_SECONDS, and no send starts
 * after half the lease). It is also how long the lanes of an instance that died (kill -9, power loss) wait before
 * another takes them, as for webhook events and hook deliveries.
 */
const LEASE_MS = 60_000;
/**
 * Most sends per line in one tick, in seconds of the line's throughput. A tick ends when its slowest line is done, so
 * this also bounds how long a slow line's backlog (an 80 msg/s campaign) holds back the next prompts of other lines.
 */
const TICK_SECONDS = 1;
const MAX_ATTEMPTS = 8;
/** A send may start at most this late after its slot; later, it takes a new slot (keeps every 1-second window ≤ mps). */
const SLOT_TOLERANCE_MS = 50;
/**
 * Sends are paced as if a second lasted this much longer, so that the provider, which sees each request a little
 * after it starts and not always equally late, still never counts more than mps in any second.
 */
const JITTER_MARGIN_MS = 20;
/** Sends in flight at once per dispatcher: enough to keep the provider busy, few enough that each starts on its slot. */
const MAX_IN_FLIGHT = 64;
const IDLE_POLL_MS = 100;
/** A provider answered a send with a message id it had already given another message of the line. */
const DUPLICATE_PROVIDER_ID = 'DUPLICATE_PROVIDER_ID';

interface QueuedRow {
  id: string;
  tenant_id: string;
  line_id: string;
  phone: string;
  content: OutgoingMessage;
  attempts: number;
  next_attempt_at: Date;
}

interface Outcome {
  id: string;
  tenantId: string;
  lineId: string;
  status: 'queued' | 'sent' | 'failed';
  /** A provider's definitive refusal, for the failure listeners. */
  failure?: SendFailure;
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

/** A message the queue moved from queued to sent. */
export interface SentMessage {
  messageId: string;
  tenantId: string;
  lineId: string;
  /** E.164. */
  phone: string;
  providerMessageId: string;
}

/**
 * Reacts to sends inside the transaction that records them (the sandbox schedules its simulated statuses). `wants`
 * is asked first, per line, so a batch with nothing to react to stays one statement outside a transaction.
 */
export interface SentListener {
  wants(lineId: string): Promise<boolean>;
  onSent(manager: EntityManager, sent: SentMessage[]): Promise<void>;
}

/** A counting semaphore whose waiters are woken by any release. */
class Permits {
  private inUse = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly max: number) {}

  available(): boolean {
    return this.inUse < this.max;
  }

  acquire(): void {
    this.inUse++;
  }

  release(): void {
    this.inUse--;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  released(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/**
 * A reserved block of send slots on one line (local epoch ms). The k-th send to start takes the next slot: it starts
 * at or after the slot, at most SLOT_TOLERANCE_MS after it (later slots are skipped), and never within 1 s (plus
 * JITTER_MARGIN_MS) of the mps-th send before it in this block.
 */
export class SlotBlock {
  private next = 0;
  private readonly starts: number[] = [];

  constructor(
    private readonly first: number,
    private readonly spacing: number,
    private readonly count: number,
    private readonly mps: number,
  ) {}

  private skipLate(now: number): void {
    while (this.next < this.count && this.first + this.next * this.spacing + SLOT_TOLERANCE_MS < now) this.next++;
  }

  exhausted(now: number): boolean {
    this.skipLate(now);
    return this.next >= this.count;
  }

  /** How long until the next slot may be used (≤ 0: now; 0 as well when the block is exhausted). */
  waitMs(now: number): number {
    this.skipLate(now);
    if (this.next >= this.count) return 0;
    let at = this.first + this.next * this.spacing;
    if (this.starts.length >= this.mps) at = Math.max(at, this.starts[this.starts.length - this.mps] + 1000 + JITTER_MARGIN_MS);
    return at - now;
  }

  /** Takes the next slot if a send may start now. */
  take(now: number): boolean {
    if (this.exhausted(now) || this.waitMs(now) > 0) return false;
    this.next++;
    this.starts.push(now);
    return true;
  }
}

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
export class SendQueueService {
  private readonly logger = new Logger(SendQueueService.name);
  private readonly workerId = randomUUID();
  private readonly worker: WorkerLoop;
  private readonly failureListeners: SendFailureListener[] = [];
  private readonly sentListeners: SentListener[] = [];

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly providers: WhatsappProviders,
    private readonly lines: LinesService,
    private readonly files: FilesService,
    private readonly hooks: HooksService,
    private readonly metrics: SendQueueMetrics,
    workers: Workers,
  ) {
    this.worker = workers.loop('SendQueue', () => this.tick(), IDLE_POLL_MS);
  }

  /**
   * Cuts the idle wait short: called after a transaction that queued messages commits in this process, so prompts
   * leave at once instead of at the next poll (other instances still find them by polling).
   */
  wake(): void {
    this.worker.wake();
  }

  /**
   * Registers a listener for definitive failures. Higher modules register here so this module needs no knowledge
   * of them (the outbounds module records 131050 failures as opt-outs).
   */
  onFailures(listener: SendFailureListener): void {
    this.failureListeners.push(listener);
  }

  /** Registers a listener for sends (queued → sent), called in the transaction that records them. */
  onSent(listener: SentListener): void {
    this.sentListeners.push(listener);
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
    // Once sends have started, lanes are released only with their outcomes written.
    let sending = false;
    let recorded = false;
    try {
      const rows: QueuedRow[] = await this.ds.query(
        `SELECT m.id, m.tenant_id, m.line_id, m.phone, m.content, m.attempts, m.next_attempt_at
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
      const due = [...byLane.values()].map((lane) => {
        const stop = lane.findIndex((r) => r.next_attempt_at.getTime() > now.getTime());
        return stop === -1 ? lane : lane.slice(0, stop);
      });
      const batch = await this.capPerLine(due);
      sending = true;
      const outcomes = this.withoutRepeatedIds(await this.sendAll(batch), batch);
      const taken = await this.recordWithRetries(
        outcomes,
        outcomes.flatMap((o) => (o.failure ? [o.failure] : [])),
      );
      // Sends whose id another message of the line already holds were left out of that write: each is a failure.
      if (taken.length > 0) {
        const rowsById = new Map(batch.flat().map((r) => [r.id, r]));
        const duplicates = taken.map((o) => this.duplicate(rowsById.get(o.id)!, o.providerMessageId!));
        await this.recordWithRetries(
          duplicates,
          duplicates.map((o) => o.failure!),
        );
      }
      recorded = true;
      return outcomes.length;
    } finally {
      // Lanes whose outcomes could not be written stay leased until the lease ends rather than being sent again now.
      if (!sending || recorded) {
        await this.ds
          .query(
            `UPDATE outbound_lanes SET locked_until = '-infinity'
              WHERE locked_by = $1 AND (line_id, phone) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
            [this.workerId, lanes.map((l) => l.line_id), lanes.map((l) => l.phone)],
          )
          .catch(() => undefined);
      }
    }
  }

  /** Trims each line's share of a tick to TICK_SECONDS of its throughput (whole lanes stay in order: a prefix is sent). */
  private async capPerLine(lanes: QueuedRow[][]): Promise<QueuedRow[][]> {
    const left = new Map<string, number>();
    const out: QueuedRow[][] = [];
    for (const lane of lanes) {
      if (lane.length === 0) continue;
      const lineId = lane[0].line_id;
      if (!left.has(lineId)) left.set(lineId, ((await this.lines.findById(lineId))?.throughputMps ?? 80) * TICK_SECONDS);
      const n = Math.min(lane.length, left.get(lineId)!);
      if (n > 0) out.push(lane.slice(0, n));
      left.set(lineId, left.get(lineId)! - n);
    }
    return out;
  }

  /**
   * A provider that answers two sends of one line with the same message id: the oldest message keeps the id, the
   * others fail with DUPLICATE_PROVIDER_ID (statuses for that id could not tell them apart). Ids already recorded on
   * the line are caught by the write itself.
   */
  private withoutRepeatedIds(outcomes: Outcome[], lanes: QueuedRow[][]): Outcome[] {
    const holder = new Map<string, string>();
    for (const o of outcomes) {
      if (!o.providerMessageId) continue;
      const key = `${o.lineId} ${o.providerMessageId}`;
      const first = holder.get(key);
      if (first === undefined || o.id < first) holder.set(key, o.id);
    }
    if (holder.size === outcomes.filter((o) => o.providerMessageId).length) return outcomes;
    const rowsById = new Map(lanes.flat().map((r) => [r.id, r]));
    return outcomes.map((o) => (o.providerMessageId && holder.get(`${o.lineId} ${o.providerMessageId}`) !== o.id ? this.duplicate(rowsById.get(o.id)!, o.providerMessageId) : o));
  }

  private duplicate(row: QueuedRow, providerMessageId: string): Outcome {
    this.logger.warn({ lineId: row.line_id, messageId: row.id, providerMessageId }, 'the provider answered a send with a message id the line already holds');
    const title = `The provider answered with message id ${providerMessageId}, which another message of this line already has`;
    const failure = { messageId: row.id, tenantId: row.tenant_id, lineId: row.line_id, phone: row.phone, code: DUPLICATE_PROVIDER_ID };
    return { ...this.failed(row, DUPLICATE_PROVIDER_ID, title), failure };
  }

  /**
   * Outcomes of sends that happened must not be lost: a failed write is tried again before giving up. Returns the
   * outcomes left out because their provider id is already taken on the line.
   */
  private async recordWithRetries(outcomes: Outcome[], failures: SendFailure[]): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.record(outcomes, failures);
      } catch (err) {
        if (attempt >= 3) throw err;
        this.logger.warn({ err, attempt }, 'recording send outcomes failed; retrying');
        await sleep(200 * attempt);
      }
    }
  }

  /**
   * Leases due lanes, oldest first: at most TICK_SECONDS of each line's throughput per line (a slow line's backlog
   * never fills the batch and starves the other lines), BATCH_LANES * 4 in all.
   */
  private async leaseDueLanes(now: Date): Promise<Array<{ line_id: string; phone: string }>> {
    const lines = await this.lines.throughputs();
    return this.ds.query(
      `INSERT INTO outbound_lanes (line_id, phone, locked_until, locked_by)
       SELECT DISTINCT ON (line_id, phone) line_id, phone, $2::timestamptz, $3 FROM (
         SELECT due.line_id, due.phone, due.next_attempt_at FROM unnest($6::text[], $7::int[]) AS l(id, throughput_mps) CROSS JOIN LATERAL (
           SELECT m.line_id, m.phone, m.next_attempt_at FROM messages m
            WHERE m.line_id = l.id AND m.status = 'queued' AND m.next_attempt_at <= $1
              -- a lane whose head waits for a retry is not due, whatever comes after it
              AND NOT EXISTS (SELECT 1 FROM messages e WHERE e.line_id = m.line_id AND e.phone = m.phone
                                AND e.status = 'queued' AND e.id < m.id AND e.next_attempt_at > $1)
              -- lanes another dispatcher holds do not take up this batch
              AND NOT EXISTS (SELECT 1 FROM outbound_lanes o WHERE o.line_id = m.line_id AND o.phone = m.phone AND o.locked_until >= $1)
            ORDER BY m.next_attempt_at LIMIT GREATEST(1, l.throughput_mps * $5)) due
          ORDER BY due.next_attempt_at LIMIT $4) due
       ON CONFLICT (line_id, phone) DO UPDATE SET locked_until = EXCLUDED.locked_until, locked_by = EXCLUDED.locked_by
         WHERE outbound_lanes.locked_until < $1
       RETURNING line_id, phone`,
      [now, new Date(now.getTime() + LEASE_MS), this.workerId, BATCH_LANES * 4, TICK_SECONDS, lines.map((l) => l.id), lines.map((l) => l.throughputMps)],
    );
  }

  /**
   * Sends the lanes' messages, in order within each lane, each line paced by its own slot blocks. At most
   * MAX_IN_FLIGHT sends run at once, so a send starts on its slot instead of queueing behind hundreds of others.
   */
  private async sendAll(lanes: QueuedRow[][]): Promise<Outcome[]> {
    const perLine = new Map<string, QueuedRow[][]>();
    for (const lane of lanes) {
      if (lane.length === 0) continue;
      const lineId = lane[0].line_id;
      if (!perLine.has(lineId)) perLine.set(lineId, []);
      perLine.get(lineId)!.push(lane);
    }
    const permits = new Permits(MAX_IN_FLIGHT);
    const deadline = Date.now() + LEASE_MS / 2;
    return (await Promise.all([...perLine].map(([lineId, lineLanes]) => this.sendLine(lineId, lineLanes, permits, deadline)))).flat();
  }

  /**
   * One line's share of a tick. Slots are handed to sends in the order they start (not tied to a message), so a
   * lane waiting for its previous message never holds a slot up; a send that would start more than
   * SLOT_TOLERANCE_MS after its slot skips to a later one, and a new block is reserved (one query) only when a block
   * runs out.
   */
  private async sendLine(lineId: string, lanes: QueuedRow[][], permits: Permits, deadline: number): Promise<Outcome[]> {
    const line = await this.lines.findById(lineId).catch((err: unknown) => {
      this.logger.error({ err, lineId }, 'line lookup failed; its messages wait for the next tick');
      return undefined;
    });
    if (line === undefined) return [];
    if (!line) return lanes.flat().map((row) => this.failed(row, 'LINE_REMOVED', 'The WhatsApp line was removed'));
    const outcomes: Outcome[] = [];
    const ready: Array<{ lane: QueuedRow[]; index: number }> = lanes.map((lane) => ({ lane, index: 0 }));
    let notStarted = lanes.reduce((n, lane) => n + lane.length, 0);
    let running = 0;
    let block: SlotBlock | null = null;
    while (ready.length > 0 || running > 0) {
      // Past the tick's deadline no send starts (the lease must outlast the tick); the rest waits for the next tick.
      if (ready.length > 0 && Date.now() > deadline) ready.length = 0;
      if (ready.length === 0 || !permits.available()) {
        if (ready.length === 0 && running === 0) break;
        // Every finished send (this line's or another's) releases a permit.
        await permits.released();
        continue;
      }
      if (!block || block.exhausted(Date.now())) {
        try {
          block = await this.reserveBlock(line, notStarted);
        } catch (err) {
          // Start nothing more, but keep the outcomes of sends already under way: they must be recorded.
          this.logger.error({ err, lineId }, 'send slot reservation failed; the rest waits for the next tick');
          ready.length = 0;
          continue;
        }
      }
      const wait = block.waitMs(Date.now());
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      // Start every send that may start now (one timer wake-up serves several slots when they are < 1 ms apart).
      while (ready.length > 0 && permits.available() && block.take(Date.now())) {
        const next = ready.shift()!;
        const row = next.lane[next.index];
        notStarted--;
        running++;
        permits.acquire();
        void this.sendOne(line, row).then((outcome) => {
          outcomes.push(outcome);
          running--;
          if (outcome.status === 'queued') {
            // Retry later; the rest of this user's messages wait behind it.
            notStarted -= next.lane.length - next.index - 1;
          } else if (next.index + 1 < next.lane.length) {
            ready.push({ lane: next.lane, index: next.index + 1 });
          }
          permits.release();
        });
      }
    }
    return outcomes;
  }

  /**
   * Reserves a block of `count` send slots (1000 + JITTER_MARGIN_MS)/mps ms apart on the line's pacing row, followed by a gap of
   * SLOT_TOLERANCE_MS before the next block (whichever instance takes it). A send starts at or after its slot and at
   * most SLOT_TOLERANCE_MS later, and inside the block no send starts within 1 s of the mps-th send before it; with
   * the gap, that keeps every 1-second window at or under mps across blocks and instances. Slot times come from
   * the database clock, shared by all instances; returned as local epoch ms.
   */
  private async reserveBlock(line: WhatsappLine, count: number): Promise<SlotBlock> {
    const spacing = (1000 + JITTER_MARGIN_MS) / line.throughputMps;
    // At least 20 ms (longer than a reservation takes): a block that expired before the reservation returned would only
    // make the loop reserve again. Not much more: the next tick's block starts after this one ends.
    const first = await this.takeSlots(line.id, Math.max(count * spacing, 20) + SLOT_TOLERANCE_MS);
    return new SlotBlock(first, spacing, count, line.throughputMps);
  }

  /** Advances the line's pacing row by `spanMs`; returns where the reserved span starts. */
  private async takeSlots(lineId: string, spanMs: number): Promise<number> {
    const localBefore = Date.now();
    const [row]: Array<{ first_ms: string; db_now_ms: string }> = await this.ds.query(
      `INSERT INTO line_send_slots (line_id, next_slot_at) VALUES ($1, clock_timestamp() + make_interval(secs => $2 / 1000.0))
       ON CONFLICT (line_id) DO UPDATE
         SET next_slot_at = GREATEST(line_send_slots.next_slot_at, clock_timestamp()) + make_interval(secs => $2 / 1000.0)
       RETURNING extract(epoch FROM next_slot_at) * 1000 - $2 AS first_ms, extract(epoch FROM clock_timestamp()) * 1000 AS db_now_ms`,
      [lineId, spanMs],
    );
    const offset = Number(row.db_now_ms) - (localBefore + Date.now()) / 2;
    return Number(row.first_ms) - offset;
  }

  private async sendOne(line: WhatsappLine, row: QueuedRow): Promise<Outcome> {
    try {
      const { providerMessageId } =
        row.content.kind === 'file' ? await this.sendStoredFile(line, row, row.content) : await this.providers.for(line).send(lineCredentials(line), row.phone, row.content);
      this.metrics.sends.inc({ line_id: row.line_id });
      return { id: row.id, tenantId: row.tenant_id, lineId: row.line_id, status: 'sent', providerMessageId, nextAttemptAt: null, errorCode: null, errorTitle: null };
    } catch (err) {
      const error = err instanceof ProviderError ? err : new ProviderError('TRANSIENT', true, String(err));
      this.metrics.providerErrors.inc({ code: error.code });
      const attempt = row.attempts + 1;
      if (error.retryable && attempt < MAX_ATTEMPTS) {
        const next = new Date(this.clock.now().getTime() + retryDelayMs(error, attempt));
        return {
          id: row.id,
          tenantId: row.tenant_id,
          lineId: row.line_id,
          status: 'queued',
          providerMessageId: null,
          nextAttemptAt: next,
          errorCode: error.code,
          errorTitle: error.message,
        };
      }
      const failure = { messageId: row.id, tenantId: line.tenantId, lineId: row.line_id, phone: row.phone, code: error.code };
      return { ...this.failed(row, error.code, error.message), failure };
    }
  }

  /** A stored file, read from the FileStore at send time (the queue row holds only its id), then uploaded and sent. */
  private async sendStoredFile(line: WhatsappLine, row: QueuedRow, m: Extract<OutgoingMessage, { kind: 'file' }>): Promise<{ providerMessageId: string }> {
    let file: MediaFile;
    try {
      file = await this.files.get(row.tenant_id, m.fileId);
    } catch (err) {
      // Another tenant's file, or one without content, can never be sent: fail now rather than retry.
      if (err instanceof AppError) throw new ProviderError('INVALID_REQUEST', false, err.message);
      throw err;
    }
    // A store that cannot be read right now (S3 unreachable) is an error like any other: retried as TRANSIENT.
    const bytes = await this.files.read(file);
    return this.providers.for(line).sendFile(lineCredentials(line), row.phone, {
      bytes,
      mimeType: file.mimeType ?? 'application/octet-stream',
      kind: m.mediaType,
      filename: m.filename ?? file.filename ?? undefined,
      caption: m.caption,
    });
  }

  private failed(row: QueuedRow, code: string, title: string): Outcome {
    return { id: row.id, tenantId: row.tenant_id, lineId: row.line_id, status: 'failed', providerMessageId: null, nextAttemptAt: null, errorCode: code, errorTitle: title };
  }

  /**
   * Writes the outcomes (and hands the failures to the listeners, in the same transaction). Returns the outcomes left
   * out because their provider id is already taken on the line.
   */
  private async record(outcomes: Outcome[], failures: SendFailure[] = []): Promise<Outcome[]> {
    if (outcomes.length === 0) return [];
    // Moves (queued → sent / failed) are read back only when a hook or a sent listener wants them.
    const hookTenants = new Set<string>();
    for (const tenantId of new Set(outcomes.filter((o) => o.status !== 'queued').map((o) => o.tenantId))) {
      if (await this.hooks.wants(tenantId, 'message.status')) hookTenants.add(tenantId);
    }
    const listened = new Map<SentListener, Set<string>>();
    for (const listener of this.sentListeners) {
      const lineIds = new Set<string>();
      for (const lineId of new Set(outcomes.filter((o) => o.status === 'sent').map((o) => o.lineId))) if (await listener.wants(lineId)) lineIds.add(lineId);
      if (lineIds.size > 0) listened.set(listener, lineIds);
    }
    const failing = failures.length > 0 && this.failureListeners.length > 0;
    if (!failing && hookTenants.size === 0 && listened.size === 0) return (await this.writeOutcomes(this.ds.manager, outcomes, false)).taken;
    return this.ds.transaction(async (m) => {
      const { taken, moved } = await this.writeOutcomes(m, outcomes, hookTenants.size > 0 || listened.size > 0);
      if (failing) for (const listener of this.failureListeners) await listener(m, failures);
      const movedOutcomes = outcomes.filter((o) => moved.has(o.id));
      const sent = movedOutcomes.filter((o) => o.status === 'sent');
      for (const [listener, lineIds] of listened) {
        const theirs = sent.filter((o) => lineIds.has(o.lineId));
        if (theirs.length > 0) {
          await listener.onSent(
            m,
            theirs.map((o) => ({ messageId: o.id, tenantId: o.tenantId, lineId: o.lineId, phone: moved.get(o.id)!, providerMessageId: o.providerMessageId! })),
          );
        }
      }
      // One message.status event per move, in the order of the messages (ids are time-ordered), with one read back.
      const hooked = movedOutcomes
        .filter((o) => hookTenants.has(o.tenantId))
        .map((o) => o.id)
        .sort();
      if (hooked.length > 0) {
        const rows = await m.findBy(Message, { id: In(hooked) });
        rows.sort((a, b) => (a.id < b.id ? -1 : 1));
        await this.hooks.emitMany(
          m,
          rows.map((row) => ({ tenantId: row.tenantId, type: 'message.status', data: MessageDto.from(row) })),
        );
      }
      return taken;
    });
  }

  /**
   * One statement for the whole batch. A status webhook that got there first is never overwritten. An outcome whose
   * provider id another message of the line already holds is left out and returned: written, it would break the line's
   * unique index and with it every other line's outcomes in the batch. (Another dispatcher writing the same id at the
   * same moment still fails the statement once; the retry then sees that id taken.)
   */
  private async writeOutcomes(manager: EntityManager, outcomes: Outcome[], readMoves: boolean): Promise<{ taken: Outcome[]; moved: Map<string, string> }> {
    const now = this.clock.now();
    // With readMoves, the rows are locked first so that their status before the write is known for sure (a status
    // webhook committing meanwhile waits): the messages whose status this write moved come back with their phone.
    const rows: Array<{ id: string; kind: 'taken' | 'moved'; phone: string | null }> = await manager.query(
      `WITH o AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $8::text[])
           AS o(id, status, pmid, next_at, code, title, line_id)
       ),${readMoves ? ` old AS (SELECT x.id, x.status FROM messages x WHERE x.id IN (SELECT id FROM o) ORDER BY x.id FOR UPDATE),` : ''} taken AS (
         SELECT o.id FROM o
          WHERE o.pmid IS NOT NULL
            AND EXISTS (SELECT 1 FROM messages x WHERE x.line_id = o.line_id AND x.provider_message_id = o.pmid AND x.id <> o.id)
       ), written AS (
         UPDATE messages m SET
           status = CASE WHEN m.status = 'queued' THEN o.status ELSE m.status END,
           provider_message_id = COALESCE(o.pmid, m.provider_message_id),
           attempts = m.attempts + 1,
           next_attempt_at = o.next_at,
           sent_at = CASE WHEN o.status = 'sent' THEN COALESCE(m.sent_at, $7) ELSE m.sent_at END,
           failed_at = CASE WHEN o.status = 'failed' THEN $7 ELSE m.failed_at END,
           error_code = o.code,
           error_title = o.title
         FROM o${readMoves ? ', old' : ''} WHERE m.id = o.id AND o.id NOT IN (SELECT id FROM taken)${readMoves ? ' AND m.id = old.id' : ''}
${readMoves ? ' RETURNING m.id, m.phone, m.status, old.status AS old_status' : ''}
       )
       SELECT id, 'taken' AS kind, NULL AS phone FROM taken${readMoves ? ` UNION ALL SELECT id, 'moved', phone FROM written WHERE status IS DISTINCT FROM old_status` : ''}`,
      [
        outcomes.map((o) => o.id),
        outcomes.map((o) => o.status),
        outcomes.map((o) => o.providerMessageId),
        outcomes.map((o) => o.nextAttemptAt),
        outcomes.map((o) => o.errorCode),
        outcomes.map((o) => o.errorTitle?.slice(0, 500) ?? null),
        now,
        outcomes.map((o) => o.lineId),
      ],
    );
    const ids = new Set(rows.filter((r) => r.kind === 'taken').map((r) => r.id));
    const moved = new Map(rows.filter((r) => r.kind === 'moved').map((r) => [r.id, r.phone!]));
    return { taken: ids.size ? outcomes.filter((o) => ids.has(o.id)) : [], moved };
  }
}
