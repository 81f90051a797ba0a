import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Messages1732270000000 implements MigrationInterface {
  name = 'Messages1732270000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE messages (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        line_id text NOT NULL REFERENCES whatsapp_lines(id),
        phone text NOT NULL,
        direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        type text NOT NULL,
        content jsonb NOT NULL,
        provider_message_id text,
        status text NOT NULL CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed')),
        conversation_id text,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        error_code text,
        error_title text,
        created_at timestamptz NOT NULL,
        sent_at timestamptz,
        delivered_at timestamptz,
        read_at timestamptz,
        failed_at timestamptz
      )`);
    // Inbound dedupe (Meta delivers at least once) and status lookups by wamid.
    await q.query(`CREATE UNIQUE INDEX messages_provider_id_uq ON messages (provider_message_id) WHERE provider_message_id IS NOT NULL`);
    await q.query(`CREATE INDEX messages_tenant_idx ON messages (tenant_id, id)`);
    await q.query(`CREATE INDEX messages_line_phone_idx ON messages (line_id, phone, id)`);
    // The send queue: only queued rows are indexed, so a tick's cost follows the rows due.
    await q.query(`CREATE INDEX messages_queue_idx ON messages (next_attempt_at) WHERE status = 'queued'`);
    // Per-user send lanes: a lease on (line, user) so one dispatcher at a time sends to a user, in order.
    await q.query(`
      CREATE TABLE outbound_lanes (
        line_id text NOT NULL,
        phone text NOT NULL,
        locked_until timestamptz NOT NULL,
        locked_by text NOT NULL,
        PRIMARY KEY (line_id, phone)
      )`);
    // Per-line send pacing shared by every instance: the next free send slot.
    await q.query(`CREATE TABLE line_send_slots (line_id text PRIMARY KEY, next_slot_at timestamptz NOT NULL)`);
    await q.query(`
      CREATE TABLE webhook_events (
        id text PRIMARY KEY,
        source text NOT NULL,
        line_id text,
        received_at timestamptz NOT NULL,
        raw text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'ignored', 'unknown_line', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        processed_at timestamptz,
        summary jsonb,
        error text
      )`);
    await q.query(`CREATE INDEX webhook_events_pending_idx ON webhook_events (id) WHERE status = 'pending'`);
    await q.query(`
      CREATE TABLE media_files (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        message_id text NOT NULL UNIQUE REFERENCES messages(id),
        line_id text NOT NULL,
        provider_media_id text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'stored', 'failed')),
        mime_type text,
        size_bytes integer,
        sha256 text,
        data bytea,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        error text,
        created_at timestamptz NOT NULL,
        stored_at timestamptz
      )`);
    await q.query(`CREATE INDEX media_files_pending_idx ON media_files (next_attempt_at) WHERE status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['media_files', 'webhook_events', 'line_send_slots', 'outbound_lanes', 'messages']) await q.query(`DROP TABLE ${t}`);
  }
}
