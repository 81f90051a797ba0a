import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { newId } from '../../common/ids/ids.js';

export type WebhookSource = 'cloud_api' | 'bsp' | 'sandbox';
export type InboxStatus = 'pending' | 'unknown_line';

interface Pending {
  row: [string, string, string | null, Date, string, InboxStatus, string | null, string | null];
  resolve: (id: string) => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH = 500;
const MAX_IN_FLIGHT = 4;

/**
 * The webhook inbox: a call is answered only once its raw body is committed to `webhook_events`. Calls arriving
 * together are written with one multi-row INSERT (group commit), which keeps the acknowledgement durable and cheap.
 */
@Injectable()
export class WebhookInboxService {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
  ) {}

  /**
   * Resolves with the event id once the row is durable. `userKey` names the user the call is about (see `userKeyOf`):
   * that user's calls are then applied in order. `summary` is what an operator sees of a call kept unprocessed.
   */
  store(source: WebhookSource, lineId: string | null, raw: string, status: InboxStatus = 'pending', userKey: string | null = null, summary: object | null = null): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row: [newId('WHE'), source, lineId, this.clock.now(), raw, status, userKey, summary ? JSON.stringify(summary) : null], resolve, reject });
      this.schedule();
    });
  }

  /**
   * Stores events inside the caller's transaction (no group commit), each claimable from `notBefore` on: events the
   * service makes up itself (the sandbox's simulated statuses), which then take the path a real call takes.
   */
  async storeIn(manager: EntityManager, events: Array<{ source: WebhookSource; lineId: string; raw: string; userKey: string | null; notBefore: Date }>): Promise<void> {
    if (events.length === 0) return;
    await manager.query(
      `INSERT INTO webhook_events (id, source, line_id, received_at, raw, status, user_key, locked_until)
       SELECT e.id, e.source, e.line_id, $5, e.raw, 'pending', e.user_key, e.not_before
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $6::text[], $7::timestamptz[]) AS e(id, source, line_id, raw, user_key, not_before)`,
      [
        events.map(() => newId('WHE')),
        events.map((e) => e.source),
        events.map((e) => e.lineId),
        events.map((e) => e.raw),
        this.clock.now(),
        events.map((e) => e.userKey),
        events.map((e) => e.notBefore),
      ],
    );
  }

  /** Called after each commit with new pending events (the processor wakes up instead of waiting for its poll). */
  onStored(listener: () => void): void {
    this.listeners.push(listener);
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.inFlight++;
    try {
      const cols = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => batch.map((p) => p.row[i]));
      await this.ds.query(
        `INSERT INTO webhook_events (id, source, line_id, received_at, raw, status, user_key, summary)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::jsonb[])`,
        cols,
      );
      for (const p of batch) p.resolve(p.row[0]);
      for (const l of this.listeners) l();
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}

/**
 * The one user whose messages a Cloud API envelope carries (`<line id>:<wa_id>`, from `routingKeys(body).senders`), or
 * null when it carries several users' messages or none. Statuses are left out: they apply in any order, and one
 * waiting for its message to be known must not hold back the user's next messages.
 */
export function userKeyOf(lineId: string, senders: string[]): string | null {
  return senders.length === 1 ? `${lineId}:${senders[0]}` : null;
}
