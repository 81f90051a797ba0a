import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `GET /metrics` counts processes by status (an index-only scan of `processes_status_idx`); the retention of message
 * bodies finds finished processes whose messages are not purged yet, oldest first (`processes_retention_idx`), and
 * their messages by process (`messages_conversation_idx`). `messages.purged_at`: when the body and media were deleted.
 */
export class OperationsMetricsRetention1733900000000 implements MigrationInterface {
  name = 'OperationsMetricsRetention1733900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS processes_status_idx ON processes (status)`);
    await q.query(`ALTER TABLE processes ADD COLUMN IF NOT EXISTS messages_purged_at timestamptz`);
    await q.query(`ALTER TABLE messages ADD COLUMN IF NOT EXISTS purged_at timestamptz`);
    await q.query(`CREATE INDEX IF NOT EXISTS processes_retention_idx ON processes (finished_at) WHERE status <> 'pending' AND messages_purged_at IS NULL`);
    await q.query(`CREATE INDEX IF NOT EXISTS messages_conversation_idx ON messages (conversation_id) WHERE conversation_id IS NOT NULL AND purged_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS messages_conversation_idx`);
    await q.query(`DROP INDEX IF EXISTS processes_retention_idx`);
    await q.query(`ALTER TABLE messages DROP COLUMN IF EXISTS purged_at`);
    await q.query(`ALTER TABLE processes DROP COLUMN IF EXISTS messages_purged_at`);
    await q.query(`DROP INDEX IF EXISTS processes_status_idx`);
  }
}
