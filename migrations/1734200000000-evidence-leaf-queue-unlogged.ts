import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The leaf queue is a work list, not evidence: every row in it is also an `evidence_events` row, and a queued event is
 * one that is not yet a leaf. So it is UNLOGGED (its inserts and deletes, two per event, write no WAL), keyed by
 * (tenant_id, event_id), the order the job takes it in (one index instead of two).
 *
 * PostgreSQL empties an unlogged table after a crash, and a promoted standby has it empty. `evidence_leaf_queue_intact`
 * is unlogged too and holds one row: when it is empty the queue was lost with it, and the checkpoint job queues again
 * every event that is not a leaf before it takes any (EvidenceCheckpoints.requeueIfLost).
 */
export class EvidenceLeafQueueUnlogged1734200000000 implements MigrationInterface {
  name = 'EvidenceLeafQueueUnlogged1734200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE evidence_leaf_queue SET UNLOGGED`);
    await q.query(`ALTER TABLE evidence_leaf_queue DROP CONSTRAINT evidence_leaf_queue_pkey`);
    await q.query(`DROP INDEX evidence_leaf_queue_tenant_idx`);
    await q.query(`ALTER TABLE evidence_leaf_queue ADD PRIMARY KEY (tenant_id, event_id)`);
    await q.query(`CREATE UNLOGGED TABLE evidence_leaf_queue_intact (intact boolean PRIMARY KEY CHECK (intact))`);
    await q.query(`INSERT INTO evidence_leaf_queue_intact VALUES (true)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE evidence_leaf_queue_intact`);
    await q.query(`ALTER TABLE evidence_leaf_queue DROP CONSTRAINT evidence_leaf_queue_pkey`);
    await q.query(`ALTER TABLE evidence_leaf_queue ADD PRIMARY KEY (event_id)`);
    await q.query(`CREATE INDEX evidence_leaf_queue_tenant_idx ON evidence_leaf_queue (tenant_id, event_id)`);
    await q.query(`ALTER TABLE evidence_leaf_queue SET LOGGED`);
  }
}
