import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Which user a stored webhook call is about, so one user's calls are applied in order by any number of processors. */
export class WebhookEventOrder1732320000000 implements MigrationInterface {
  name = 'WebhookEventOrder1732320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_events ADD COLUMN user_key text`);
    await q.query(`CREATE INDEX webhook_events_user_pending_idx ON webhook_events (user_key, id) WHERE status = 'pending' AND user_key IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_events_user_pending_idx`);
    await q.query(`ALTER TABLE webhook_events DROP COLUMN user_key`);
  }
}
