import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Custody of evidence: legal holds per process, and the retention purge. The purge goes through one function,
 * `evidence_purge`, which leaves a tombstone (the process, its chain's last seq and head, when) before it deletes the
 * process's events: the only path past the log's append-only trigger. Tombstones are append-only themselves.
 */
export class Custody1733660000000 implements MigrationInterface {
  name = 'Custody1733660000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE evidence_tombstones (
        process_id text PRIMARY KEY,
        tenant_id text NOT NULL,
        seq int NOT NULL,
        head text NOT NULL,
        purged_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TRIGGER evidence_tombstones_append_only BEFORE UPDATE OR DELETE ON evidence_tombstones
      FOR EACH ROW EXECUTE FUNCTION evidence_append_only()`);
    await q.query(`CREATE TRIGGER evidence_tombstones_no_truncate BEFORE TRUNCATE ON evidence_tombstones FOR EACH STATEMENT EXECUTE FUNCTION evidence_append_only()`);
    await q.query(`
      CREATE FUNCTION evidence_purge(p_process text, p_tenant text, p_head text, p_seq int, p_at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO evidence_tombstones (process_id, tenant_id, seq, head, purged_at) VALUES (p_process, p_tenant, p_seq, p_head, p_at);
        PERFORM set_config('testigo.evidence_purge', 'on', true);
        DELETE FROM evidence_events WHERE process_id = p_process;
        PERFORM set_config('testigo.evidence_purge', 'off', true);
      END $$`);
    await q.query(`
      CREATE TABLE legal_holds (
        process_id text PRIMARY KEY,
        tenant_id text NOT NULL,
        reason text,
        held_at timestamptz NOT NULL
      )`);
    await q.query(`ALTER TABLE processes ADD COLUMN purged_at timestamptz`);
    await q.query(`CREATE INDEX processes_purge_idx ON processes (tenant_id, finished_at) WHERE finished_at IS NOT NULL AND purged_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX processes_purge_idx`);
    await q.query(`ALTER TABLE processes DROP COLUMN purged_at`);
    await q.query(`DROP TABLE legal_holds`);
    await q.query(`DROP FUNCTION evidence_purge(text, text, text, int, timestamptz)`);
    await q.query(`DROP TABLE evidence_tombstones`);
  }
}
