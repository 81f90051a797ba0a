import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { Observable } from 'rxjs';
import { DataSource } from 'typeorm';

const CHANNEL = 'testigo_sandbox';

/** What the sandbox triggers announce (see the SandboxNotifications migration). */
export interface SandboxEvent {
  kind: 'message' | 'sms';
  tenant_id: string;
  /** Messages only: SMS belong to the tenant, not to a line. */
  line_id?: string;
  phone: string;
  id: string;
}

interface Subscriber {
  tenantId: string;
  lineId: string;
  phone: string;
  next(event: SandboxEvent | 'resync'): void;
}

/**
 * The live sandbox conversations, from PostgreSQL's notifications (LISTEN testigo_sandbox): the first subscriber opens
 * one listening connection for the process, which every stream then shares. While it is down, streams are told to
 * read again once it is back (`resync`), since what was announced meanwhile is lost.
 */
@Injectable()
export class SandboxEventsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(SandboxEventsService.name);
  private readonly subscribers = new Set<Subscriber>();
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly ds: DataSource) {}

  /** Changes of the conversation between `lineId` and `phone`, and the SMS sent to `phone`, of this tenant. */
  changes(tenantId: string, lineId: string, phone: string): Observable<SandboxEvent | 'resync'> {
    return new Observable((subscriber) => {
      const entry: Subscriber = { tenantId, lineId, phone, next: (e) => subscriber.next(e) };
      this.subscribers.add(entry);
      // Listening already: the stream starts now (else once the connection listens).
      if (this.client) entry.next('resync');
      else void this.ensureListening();
      return () => this.subscribers.delete(entry);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }

  private ensureListening(): Promise<void> {
    if (this.client || this.stopped) return Promise.resolve();
    return (this.connecting ??= this.listen().finally(() => (this.connecting = null)));
  }

  private dispatch(payload: string): void {
    let event: SandboxEvent;
    try {
      event = JSON.parse(payload) as SandboxEvent;
    } catch {
      return;
    }
    for (const s of this.subscribers) {
      if (s.tenantId !== event.tenant_id || s.phone !== event.phone) continue;
      if (event.kind === 'message' && event.line_id !== s.lineId) continue;
      s.next(event);
    }
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: (this.ds.options as { url: string }).url, application_name: 'testigo-sandbox-events' });
    client.on('notification', (n) => n.channel === CHANNEL && n.payload && this.dispatch(n.payload));
    client.on('error', () => undefined); // followed by 'end'
    client.on('end', () => {
      if (this.client === client) this.client = null;
      if (this.stopped || this.subscribers.size === 0) return;
      this.logger.warn('sandbox events connection lost; reconnecting');
      setTimeout(() => void this.ensureListening(), 1000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.client = client;
      for (const s of this.subscribers) s.next('resync');
    } catch (err) {
      this.logger.warn({ err }, 'sandbox events unavailable; retrying');
      await client.end().catch(() => undefined);
      if (!this.stopped) setTimeout(() => void this.ensureListening(), 1000).unref();
    }
  }
}
