import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Conversations1732310000000 implements MigrationInterface {
  name = 'Conversations1732310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE inbounds (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        line_id text NOT NULL REFERENCES whatsapp_lines(id),
        flow_id text NOT NULL,
        inbound_message text NOT NULL,
        match_key text NOT NULL,
        created_at timestamptz NOT NULL,
        deleted_at timestamptz
      )`);
    // Two inbounds of one line may not match the same text.
    await q.query(`CREATE UNIQUE INDEX inbounds_match_uq ON inbounds (line_id, match_key) WHERE deleted_at IS NULL`);
    await q.query(`CREATE INDEX inbounds_tenant_idx ON inbounds (tenant_id, id)`);
    // One row per (line, user): the 24-hour window, and the row lock that applies one user's messages one at a time.
    await q.query(`
      CREATE TABLE conversation_windows (
        line_id text NOT NULL,
        phone text NOT NULL,
        last_user_message_at timestamptz NOT NULL,
        PRIMARY KEY (line_id, phone)
      )`);
    await q.query(`
      CREATE TABLE processes (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        line_id text NOT NULL REFERENCES whatsapp_lines(id),
        phone text NOT NULL,
        flow_id text NOT NULL,
        flow_version integer NOT NULL,
        origin text NOT NULL CHECK (origin IN ('inbound', 'outbound')),
        origin_id text,
        status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'expired', 'cancelled')),
        failure_reason text,
        current_step_id text,
        step_attempts integer NOT NULL DEFAULT 0,
        asked_at timestamptz,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        expires_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX processes_active_uq ON processes (line_id, phone) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX processes_tenant_idx ON processes (tenant_id, id)`);
    await q.query(`CREATE INDEX processes_expiry_idx ON processes (expires_at) WHERE status = 'pending'`);
    await q.query(`
      CREATE TABLE process_answers (
        id text PRIMARY KEY,
        process_id text NOT NULL REFERENCES processes(id) ON DELETE CASCADE,
        step_id text NOT NULL,
        step_type text NOT NULL,
        value text,
        normalized text,
        valid boolean NOT NULL,
        error text,
        message_id text,
        media_file_id text,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX process_answers_process_idx ON process_answers (process_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['process_answers', 'processes', 'conversation_windows', 'inbounds']) await q.query(`DROP TABLE ${t}`);
  }
}
