import type { MigrationInterface, QueryRunner } from 'typeorm';

export class FollowUps1732300000000 implements MigrationInterface {
  name = 'FollowUps1732300000000';

  async up(q: QueryRunner): Promise<void> {
    // One re-engagement message per unanswered question. process_id has no FK: processes belong to the engine,
    // which sits above this module.
    await q.query(`
      CREATE TABLE follow_ups (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        process_id text NOT NULL,
        line_id text NOT NULL REFERENCES whatsapp_lines(id),
        phone text NOT NULL,
        step_id text NOT NULL,
        asked_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        window_closes_at timestamptz NOT NULL,
        message text NOT NULL,
        language text NOT NULL,
        status text NOT NULL CHECK (status IN ('scheduled', 'sent', 'skipped', 'cancelled', 'answered')),
        skip_reason text,
        cancel_reason text,
        sent_at timestamptz,
        message_id text,
        answer text CHECK (answer IN ('yes', 'no')),
        answered_at timestamptz,
        cancelled_at timestamptz,
        created_at timestamptz NOT NULL
      )`);
    // The cron's claim: only scheduled rows are indexed, so a tick's cost follows the rows due, not the rows kept.
    await q.query(`CREATE INDEX follow_ups_due_idx ON follow_ups (due_at) WHERE status = 'scheduled'`);
    // At most one scheduled follow-up per process (the one for its current unanswered question).
    await q.query(`CREATE UNIQUE INDEX follow_ups_scheduled_process_uq ON follow_ups (process_id) WHERE status = 'scheduled'`);
    // Per-process lookups: the latest follow-up, one per step, the one awaiting a yes/no.
    await q.query(`CREATE INDEX follow_ups_process_idx ON follow_ups (process_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE follow_ups`);
  }
}
