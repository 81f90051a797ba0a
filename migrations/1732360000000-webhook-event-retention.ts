import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finished webhook events are purged after WEBHOOK_EVENTS_RETENTION_DAYS (oldest first, by received_at), and a
 * tenant lists its lines' `unknown_line` and `failed` events: two partial indexes that pending rows (the ingress
 * path) never enter.
 */
export class WebhookEventRetention1732360000000 implements MigrationInterface {
  name = 'WebhookEventRetention1732360000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX webhook_events_finished_idx ON webhook_events (received_at) WHERE status <> 'pending'`);
    await q.query(`CREATE INDEX webhook_events_attention_idx ON webhook_events (line_id, id) WHERE status IN ('unknown_line', 'failed')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_events_attention_idx`);
    await q.query(`DROP INDEX webhook_events_finished_idx`);
  }
}
