import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SMS: a tenant's provider settings (`tenants.sms`, the auth token sealed like every secret) and the sandbox
 * provider's inbox of what it "sent".
 */
export class Sms1733000100000 implements MigrationInterface {
  name = 'Sms1733000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants ADD COLUMN sms jsonb`);
    await q.query(`
      CREATE TABLE sandbox_sms (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        phone text NOT NULL,
        body text NOT NULL,
        provider_message_id text NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX sandbox_sms_phone_idx ON sandbox_sms (tenant_id, phone, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sandbox_sms`);
    await q.query(`ALTER TABLE tenants DROP COLUMN sms`);
  }
}
