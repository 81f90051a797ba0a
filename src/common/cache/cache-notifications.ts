import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { announceCacheClears, clearCaches } from './lookup-cache.js';

const CHANNEL = 'testigo_cache';

/**
 * Carries configuration-cache clears between processes and instances through PostgreSQL LISTEN/NOTIFY: a clear here
 * is announced with `pg_notify`, and every process (this one included) clears its caches of that name when the
 * notification arrives. While the listening connection is down, notifications can be missed: the caches are then
 * cleared on reconnection, and their TTL bounds what is left.
 */
@Injectable()
export class CacheNotifications implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(CacheNotifications.name);
  private client: pg.Client | null = null;
  private stopped = false;
  private unannounce: () => void = () => undefined;

  constructor(private readonly ds: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    this.unannounce = announceCacheClears((name) => {
      this.ds.query(`SELECT pg_notify($1, $2)`, [CHANNEL, name]).catch((err: unknown) => this.logger.warn({ err, name }, 'cache clear not announced'));
    });
    await this.listen();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unannounce();
    await this.client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: (this.ds.options as { url: string }).url, application_name: 'testigo-cache' });
    client.on('notification', (n) => n.channel === CHANNEL && n.payload && clearCaches(n.payload));
    client.on('error', () => undefined); // followed by 'end'
    client.on('end', () => {
      if (this.stopped) return;
      this.logger.warn('cache notifications connection lost; reconnecting');
      setTimeout(() => void this.listen(), 1000);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.client = client;
      // Whatever changed while nobody listened is read again.
      clearCaches();
    } catch (err) {
      this.logger.warn({ err }, 'cache notifications unavailable; retrying');
      await client.end().catch(() => undefined);
    }
  }
}
