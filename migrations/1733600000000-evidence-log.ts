import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The evidence log: per process, an append-only chain of events (seq 1, 2, …), each hashed over the previous hash
 * and its canonical JSON (RFC 8785), written in the transaction of what it records. The chain head sits on the process
 * row, which the engine already locks. A trigger refuses UPDATE and DELETE on the log: nothing but the retention purge
 * (which sets `testigo.evidence_purge` for its own transaction, and leaves a record of itself) may change a row.
 */
export class EvidenceLog1733600000000 implements MigrationInterface {
  name = 'EvidenceLog1733600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS evidence_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id text NOT NULL,
        process_id text NOT NULL,
        seq int NOT NULL,
        type text NOT NULL,
        occurred_at timestamptz NOT NULL,
        payload jsonb NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS evidence_events_process_seq_idx ON evidence_events (process_id, seq)`);
    await q.query(`
      CREATE OR REPLACE FUNCTION evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_setting('testigo.evidence_purge', true) = 'on' THEN
          RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END IF;
        RAISE EXCEPTION 'evidence is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER evidence_events_append_only BEFORE UPDATE OR DELETE ON evidence_events
      FOR EACH ROW EXECUTE FUNCTION evidence_append_only()`);
    await q.query(`CREATE TRIGGER evidence_events_no_truncate BEFORE TRUNCATE ON evidence_events FOR EACH STATEMENT EXECUTE FUNCTION evidence_append_only()`);
    await q.query(`ALTER TABLE processes ADD COLUMN evidence_seq int NOT NULL DEFAULT 0, ADD COLUMN evidence_head text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE processes DROP COLUMN evidence_seq, DROP COLUMN evidence_head`);
    await q.query(`DROP TABLE evidence_events`);
    await q.query(`DROP FUNCTION evidence_append_only()`);
  }
}
