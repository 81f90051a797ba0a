import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The shared job runner's table (src/common/jobs). Media downloads and template submissions and polls move onto it:
 * their waiting rows become jobs, and the columns that scheduled them on their own rows go.
 */
export class Jobs1732395000000 implements MigrationInterface {
  name = 'Jobs1732395000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE jobs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        queue text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        max_attempts int NOT NULL,
        run_at timestamptz NOT NULL,
        locked_until timestamptz,
        last_error text,
        key text,
        created_at timestamptz NOT NULL,
        finished_at timestamptz
      )`);
    // NULL keys never conflict: only jobs enqueued with a key are deduplicated.
    await q.query(`CREATE UNIQUE INDEX jobs_queue_key_idx ON jobs (queue, key)`);
    await q.query(`CREATE INDEX jobs_due_idx ON jobs (queue, run_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX jobs_lease_idx ON jobs (queue, locked_until) WHERE status = 'running'`);
    await q.query(`CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE status = 'done'`);

    await q.query(`
      INSERT INTO jobs (queue, payload, attempts, max_attempts, run_at, key, created_at)
      SELECT 'media.download', jsonb_build_object('mediaFileId', id), attempts, GREATEST(6, attempts + 1), COALESCE(next_attempt_at, now()), id, created_at
        FROM media_files WHERE status = 'pending' AND provider_media_id IS NOT NULL`);
    await q.query(`
      INSERT INTO jobs (queue, payload, attempts, max_attempts, run_at, key, created_at)
      SELECT 'template.submit', jsonb_build_object('templateId', id), submit_attempts, GREATEST(12, submit_attempts + 1), COALESCE(next_submit_at, now()), id, created_at
        FROM templates WHERE submission_state = 'pending'`);
    await q.query(`
      INSERT INTO jobs (queue, payload, max_attempts, run_at, key, created_at)
      SELECT 'template.poll', jsonb_build_object('templateId', id), 20, COALESCE(next_poll_at, now()), id, created_at
        FROM templates WHERE status = 'PENDING' AND submission_state = 'submitted'`);

    await q.query(`DROP INDEX media_files_pending_idx`);
    await q.query(`ALTER TABLE media_files DROP COLUMN next_attempt_at`);
    await q.query(`DROP INDEX templates_submit_idx`);
    await q.query(`DROP INDEX templates_poll_idx`);
    await q.query(`ALTER TABLE templates DROP COLUMN next_submit_at, DROP COLUMN next_poll_at`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE templates ADD COLUMN next_submit_at timestamptz, ADD COLUMN next_poll_at timestamptz`);
    await q.query(`ALTER TABLE media_files ADD COLUMN next_attempt_at timestamptz`);
    await q.query(`
      UPDATE media_files f SET next_attempt_at = j.run_at FROM jobs j
       WHERE j.queue = 'media.download' AND j.status IN ('pending', 'running') AND j.payload->>'mediaFileId' = f.id`);
    await q.query(`
      UPDATE templates t SET next_submit_at = j.run_at FROM jobs j
       WHERE j.queue = 'template.submit' AND j.status IN ('pending', 'running') AND j.payload->>'templateId' = t.id`);
    await q.query(`
      UPDATE templates t SET next_poll_at = j.run_at FROM jobs j
       WHERE j.queue = 'template.poll' AND j.status IN ('pending', 'running') AND j.payload->>'templateId' = t.id`);
    await q.query(`CREATE INDEX media_files_pending_idx ON media_files (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX templates_submit_idx ON templates (next_submit_at) WHERE submission_state = 'pending'`);
    await q.query(`CREATE INDEX templates_poll_idx ON templates (next_poll_at) WHERE status = 'PENDING' AND submission_state = 'submitted'`);
    await q.query(`DROP TABLE jobs`);
  }
}
