import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Flows1732260000000 implements MigrationInterface {
  name = 'Flows1732260000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE flows (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
        latest_version integer NOT NULL CHECK (latest_version >= 1),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        archived_at timestamptz
      )`);
    await q.query(`CREATE INDEX flows_tenant_idx ON flows (tenant_id, id)`);
    await q.query(`CREATE INDEX flows_tenant_status_idx ON flows (tenant_id, status, id)`);
    await q.query(`
      CREATE TABLE flow_versions (
        flow_id text NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
        version integer NOT NULL CHECK (version >= 1),
        definition jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT flow_versions_flow_version_uq PRIMARY KEY (flow_id, version)
      )`);
    // Running processes keep the version they started with, so a stored version never changes.
    await q.query(`
      CREATE FUNCTION flow_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'flow_versions rows are immutable (flow %, version %)', OLD.flow_id, OLD.version;
      END $$`);
    await q.query(`
      CREATE TRIGGER flow_versions_no_update BEFORE UPDATE ON flow_versions
      FOR EACH ROW EXECUTE FUNCTION flow_versions_immutable()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE flow_versions`);
    await q.query(`DROP FUNCTION flow_versions_immutable()`);
    await q.query(`DROP TABLE flows`);
  }
}
