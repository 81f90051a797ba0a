import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Hooks1732265000000 implements MigrationInterface {
  name = 'Hooks1732265000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE hooks (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        url text NOT NULL,
        events text[] NOT NULL CHECK (cardinality(events) > 0),
        flow_ids text[] NOT NULL DEFAULT '{}',
        active boolean NOT NULL DEFAULT true,
        secret text NOT NULL,
        previous_secret text,
        previous_secret_expires_at timestamptz,
        failing_since timestamptz,
        disabled_reason text,
        disabled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX hooks_tenant_idx ON hooks (tenant_id, id)`);
    await q.query(`
      CREATE TABLE hook_events (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        type text NOT NULL,
        flow_id text,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE hook_deliveries (
        id text PRIMARY KEY,
        tenant_id text NOT NULL,
        hook_id text NOT NULL REFERENCES hooks(id) ON DELETE CASCADE,
        event_id text NOT NULL REFERENCES hook_events(id) ON DELETE CASCADE,
        event_type text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'sending', 'succeeded', 'failed')),
        attempt_count integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        lease_token text,
        first_attempt_at timestamptz,
        last_attempt_at timestamptz,
        delivered_at timestamptz,
        last_error text,
        created_at timestamptz NOT NULL
      )`);
    // The dispatcher's due query: only rows still to send are in the index, so a tick's cost follows what is due.
    await q.query(`CREATE INDEX hook_deliveries_due_idx ON hook_deliveries (next_attempt_at) WHERE status IN ('pending', 'sending')`);
    await q.query(`CREATE INDEX hook_deliveries_hook_idx ON hook_deliveries (hook_id, id)`);
    await q.query(`
      CREATE TABLE hook_delivery_attempts (
        id bigserial PRIMARY KEY,
        delivery_id text NOT NULL REFERENCES hook_deliveries(id) ON DELETE CASCADE,
        attempted_at timestamptz NOT NULL,
        http_status integer,
        latency_ms integer NOT NULL,
        error text,
        response_excerpt text
      )`);
    await q.query(`CREATE INDEX hook_delivery_attempts_delivery_idx ON hook_delivery_attempts (delivery_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE hook_delivery_attempts`);
    await q.query(`DROP TABLE hook_deliveries`);
    await q.query(`DROP TABLE hook_events`);
    await q.query(`DROP TABLE hooks`);
  }
}
