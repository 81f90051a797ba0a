import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Outbounds1732290000000 implements MigrationInterface {
  name = 'Outbounds1732290000000';

  async up(q: QueryRunner): Promise<void> {
    // WhatsApp templates and their approval lifecycle. Submission to the provider happens after the row commits;
    // submission_state/next_submit_at drive the retry cron, so an accepted create is never lost.
    await q.query(`
      CREATE TABLE templates (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        line_id text NOT NULL REFERENCES whatsapp_lines(id),
        name text NOT NULL UNIQUE,
        language text NOT NULL,
        category text NOT NULL CHECK (category IN ('UTILITY', 'MARKETING', 'AUTHENTICATION')),
        body text NOT NULL,
        body_examples jsonb NOT NULL,
        header jsonb,
        quick_replies jsonb NOT NULL DEFAULT '[]',
        status text NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED')),
        rejection_reason text,
        provider_template_id text,
        submission_state text NOT NULL CHECK (submission_state IN ('pending', 'submitted', 'failed')),
        submit_attempts integer NOT NULL DEFAULT 0,
        next_submit_at timestamptz,
        submit_error text,
        next_poll_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX templates_provider_id_idx ON templates (provider_template_id) WHERE provider_template_id IS NOT NULL`);
    await q.query(`CREATE INDEX templates_submit_idx ON templates (next_submit_at) WHERE submission_state = 'pending'`);
    await q.query(`CREATE INDEX templates_poll_idx ON templates (next_poll_at) WHERE status = 'PENDING' AND submission_state = 'submitted'`);

    // The documented outbound messages: what the client sent, backed by one template.
    await q.query(`
      CREATE TABLE outbounds (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        line_id text NOT NULL REFERENCES whatsapp_lines(id),
        template_id text NOT NULL UNIQUE REFERENCES templates(id),
        is_notification boolean NOT NULL,
        content text NOT NULL,
        param_count integer NOT NULL,
        category text NOT NULL,
        template_type text NOT NULL,
        language_code text NOT NULL,
        media_url text,
        options jsonb,
        example_params jsonb NOT NULL DEFAULT '[]',
        api_key_id text,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX outbounds_tenant_idx ON outbounds (tenant_id, id)`);

    // Each send of an outbound (a flow invitation when flow_id is set) and the user's answer to it.
    await q.query(`
      CREATE TABLE outbound_sends (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        outbound_id text NOT NULL REFERENCES outbounds(id),
        line_id text NOT NULL,
        phone text NOT NULL,
        message_id text NOT NULL REFERENCES messages(id),
        flow_id text,
        params jsonb NOT NULL DEFAULT '[]',
        api_key_id text,
        response text CHECK (response IN ('continue_process', 'cancel_process')),
        responded_at timestamptz,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX outbound_sends_line_phone_idx ON outbound_sends (line_id, phone, id)`);

    // Every opt-in and opt-out, with its time and source (append-only).
    await q.query(`
      CREATE TABLE consents (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        phone text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('opt_in', 'opt_out')),
        source text NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        api_key_id text,
        line_id text,
        evidence text,
        lifts_opt_out boolean NOT NULL
      )`);
    await q.query(`CREATE INDEX consents_phone_idx ON consents (tenant_id, phone, id)`);
    // Current opt-out state per (tenant, user): one row read on every send.
    await q.query(`
      CREATE TABLE consent_states (
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        phone text NOT NULL,
        -- Opted out while the latest opt-out is newer than the latest opt-in that lifts it; order-independent.
        last_opt_out_at timestamptz,
        last_lift_at timestamptz,
        PRIMARY KEY (tenant_id, phone)
      )`);

    // Idempotency-Key of API POSTs: the first successful answer, per tenant and key.
    await q.query(`
      CREATE TABLE idempotency_keys (
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key text NOT NULL,
        scope text NOT NULL,
        request_hash text NOT NULL,
        status_code integer NOT NULL,
        response jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['idempotency_keys', 'consent_states', 'consents', 'outbound_sends', 'outbounds', 'templates']) await q.query(`DROP TABLE ${t}`);
  }
}
