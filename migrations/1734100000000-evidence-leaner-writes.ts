import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fewer writes per evidence event, the same guarantees:
 * - `evidence_events.payload` is `json`, which keeps the text it is given: the stored payload is byte for byte the
 *   RFC 8785 form its hash covers (jsonb re-serialised it, and cost a parse into its binary form on every insert).
 *   Rows written before keep jsonb's rendering, which parses to the same value and hashes the same.
 * - `evidence_events` is keyed by (process_id, seq), the index every read uses; `id` stays (the leaf queue's order)
 *   without an index of its own.
 * - `evidence_leaves`: (process_id, seq) is unique, which also keeps an event from being a leaf twice; the index on
 *   event_id, which nothing reads, goes.
 * Interior tree nodes below level 4 are no longer written (computed from their at most 8 leaves when read); the ones
 * already stored stay, unread (the table is append-only).
 */
export class EvidenceLeanerWrites1734100000000 implements MigrationInterface {
  name = 'EvidenceLeanerWrites1734100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE evidence_events ALTER COLUMN payload TYPE json USING payload::json`);
    await q.query(`ALTER TABLE evidence_events DROP CONSTRAINT evidence_events_pkey`);
    await q.query(`ALTER TABLE evidence_events ADD CONSTRAINT evidence_events_pkey PRIMARY KEY USING INDEX evidence_events_process_seq_idx`);
    await q.query(`DROP INDEX evidence_leaves_event_idx`);
    await q.query(`CREATE UNIQUE INDEX evidence_leaves_process_seq_idx ON evidence_leaves (process_id, seq) INCLUDE (leaf_index, tenant_id)`);
    await q.query(`DROP INDEX evidence_leaves_process_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX evidence_leaves_process_idx ON evidence_leaves (process_id, seq) INCLUDE (leaf_index, tenant_id)`);
    await q.query(`DROP INDEX evidence_leaves_process_seq_idx`);
    await q.query(`CREATE UNIQUE INDEX evidence_leaves_event_idx ON evidence_leaves (event_id)`);
    await q.query(`ALTER TABLE evidence_events DROP CONSTRAINT evidence_events_pkey`);
    await q.query(`CREATE UNIQUE INDEX evidence_events_process_seq_idx ON evidence_events (process_id, seq)`);
    await q.query(`ALTER TABLE evidence_events ADD PRIMARY KEY (id)`);
    await q.query(`ALTER TABLE evidence_events ALTER COLUMN payload TYPE jsonb USING payload::jsonb`);
  }
}
