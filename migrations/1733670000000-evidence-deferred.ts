import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Evidence recorded by a module that does not hold the process row (a delivery status, a hook delivered, a follow-up
 * sent): written in the transaction of what it records, then appended to the process's chain by the engine, which
 * takes the process row lock alone (taking it inside those transactions would order locks against the engine's).
 */
export class EvidenceDeferred1733670000000 implements MigrationInterface {
  name = 'EvidenceDeferred1733670000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE evidence_deferred (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id text NOT NULL,
        process_id text NOT NULL,
        type text NOT NULL,
        occurred_at timestamptz NOT NULL,
        payload jsonb NOT NULL
      )`);
    await q.query(`CREATE INDEX evidence_deferred_process_idx ON evidence_deferred (process_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE evidence_deferred`);
  }
}
