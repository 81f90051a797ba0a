import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Each line's queued messages in due order: the send queue leases a fair share of every line's lanes per tick. */
export class LineSendQueue1732330000000 implements MigrationInterface {
  name = 'LineSendQueue1732330000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX messages_line_queue_idx ON messages (line_id, next_attempt_at) WHERE status = 'queued'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX messages_line_queue_idx`);
  }
}
