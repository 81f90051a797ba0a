import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The configuration audit trail: who changed which line, flow, inbound, outbound, hook, setting, key or tenant, and
 * when. Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, so a row, once written, is what happened.
 */
export class AuditLog1732390000000 implements MigrationInterface {
  name = 'AuditLog1732390000000';

  async up(q: QueryRunner): Promise<void> {
    // No foreign keys: the trail outlives what it names (a removed line, a deleted hook).
    await q.query(`
      CREATE TABLE audit_log (
        id text PRIMARY KEY,
        tenant_id text,
        actor text NOT NULL,
        resource_type text NOT NULL,
        resource_id text,
        action text NOT NULL,
        changes jsonb NOT NULL DEFAULT '{}',
        request_id text NOT NULL,
        client_ip text,
        method text NOT NULL,
        path text NOT NULL,
        occurred_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id)`);
    await q.query(`CREATE INDEX audit_log_resource_idx ON audit_log (tenant_id, resource_type, resource_id, id)`);
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
    await q.query(`DROP FUNCTION audit_log_append_only()`);
  }
}
