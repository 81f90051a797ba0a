import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1732250000000 implements MigrationInterface {
  name = 'Foundation1732250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id text PRIMARY KEY,
        name text NOT NULL,
        settings jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        key_prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, id)`);
    await q.query(`
      CREATE TABLE whatsapp_lines (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        phone_number text NOT NULL,
        provider text NOT NULL CHECK (provider IN ('sandbox', 'cloud_api', 'bsp')),
        phone_number_id text,
        waba_id text,
        base_url text,
        secrets jsonb NOT NULL DEFAULT '{}',
        throughput_mps integer NOT NULL DEFAULT 80 CHECK (throughput_mps > 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX whatsapp_lines_phone_uq ON whatsapp_lines (phone_number) WHERE deleted_at IS NULL`);
    await q.query(`CREATE UNIQUE INDEX whatsapp_lines_pnid_uq ON whatsapp_lines (phone_number_id) WHERE deleted_at IS NULL AND phone_number_id IS NOT NULL`);
    await q.query(`CREATE INDEX whatsapp_lines_waba_idx ON whatsapp_lines (waba_id) WHERE deleted_at IS NULL`);
    await q.query(`CREATE INDEX whatsapp_lines_tenant_idx ON whatsapp_lines (tenant_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE whatsapp_lines`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE tenants`);
  }
}
