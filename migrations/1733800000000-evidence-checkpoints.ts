import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Merkle checkpoints over the evidence log: every event becomes a leaf of its tenant's append-only RFC 9162 tree, and
 * signed checkpoints `{tree_size, root_hash, issued_at}` of that tree are issued on a schedule.
 *
 * Appends take no per-tenant lock: a statement trigger on `evidence_events` queues each new event (id, tenant, process, seq, hash)
 * in `evidence_leaf_queue` in the inserting transaction, and the checkpoint job drains the queue under a per-tenant
 * advisory lock, giving leaf indexes in the order it takes them. A queued row is visible exactly when its event
 * committed, so an event that commits late (with a smaller id) is taken by a later run, never skipped.
 *
 * Leaves hold hashes only (SHA-256(0x00 ‖ the event's hash)), so a retention purge of payloads leaves the tree and
 * its checkpoints intact. Leaves, interior nodes and checkpoints never change: their trigger has no purge exception.
 */
export class EvidenceCheckpoints1733800000000 implements MigrationInterface {
  name = 'EvidenceCheckpoints1733800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE evidence_leaf_queue (
        event_id bigint PRIMARY KEY,
        tenant_id text NOT NULL,
        process_id text NOT NULL,
        seq int NOT NULL,
        event_hash text NOT NULL
      )`);
    await q.query(`CREATE INDEX evidence_leaf_queue_tenant_idx ON evidence_leaf_queue (tenant_id, event_id)`);
    await q.query(`
      CREATE FUNCTION evidence_queue_leaves() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO evidence_leaf_queue (event_id, tenant_id, process_id, seq, event_hash) SELECT id, tenant_id, process_id, seq, hash FROM new_events;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER evidence_events_queue_leaves AFTER INSERT ON evidence_events
      REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION evidence_queue_leaves()`);
    // Events recorded before checkpoints existed enter the tree on the first run.
    await q.query(`INSERT INTO evidence_leaf_queue (event_id, tenant_id, process_id, seq, event_hash) SELECT id, tenant_id, process_id, seq, hash FROM evidence_events`);

    await q.query(`
      CREATE TABLE evidence_leaves (
        tenant_id text NOT NULL,
        leaf_index bigint NOT NULL,
        event_id bigint NOT NULL,
        process_id text NOT NULL,
        seq int NOT NULL,
        hash bytea NOT NULL,
        PRIMARY KEY (tenant_id, leaf_index)
      )`);
    await q.query(`CREATE UNIQUE INDEX evidence_leaves_event_idx ON evidence_leaves (event_id)`);
    await q.query(`CREATE INDEX evidence_leaves_process_idx ON evidence_leaves (process_id, seq) INCLUDE (leaf_index, tenant_id)`);
    // Complete aligned subtrees above the leaves: (level, node_index) covers leaves [node_index·2^level, (node_index+1)·2^level).
    await q.query(`
      CREATE TABLE evidence_tree_nodes (
        tenant_id text NOT NULL,
        level smallint NOT NULL CHECK (level > 0),
        node_index bigint NOT NULL,
        hash bytea NOT NULL,
        PRIMARY KEY (tenant_id, level, node_index)
      )`);
    // The job's own bookkeeping (written only under the tenant's advisory lock): which tenants have leaves to checkpoint.
    await q.query(`
      CREATE TABLE evidence_trees (
        tenant_id text PRIMARY KEY,
        size bigint NOT NULL,
        checkpoint_size bigint NOT NULL DEFAULT 0,
        checkpoint_at timestamptz
      )`);
    await q.query(`CREATE INDEX evidence_trees_unchecked_idx ON evidence_trees (tenant_id) WHERE size > checkpoint_size`);
    await q.query(`
      CREATE TABLE evidence_checkpoints (
        id text PRIMARY KEY,
        tenant_id text NOT NULL,
        tree_size bigint NOT NULL,
        root_hash text NOT NULL,
        issued_at timestamptz NOT NULL,
        signature text NOT NULL,
        signature_algorithm text NOT NULL,
        timestamp_token text
      )`);
    await q.query(`CREATE UNIQUE INDEX evidence_checkpoints_size_idx ON evidence_checkpoints (tenant_id, tree_size)`);
    await q.query(`CREATE INDEX evidence_checkpoints_tenant_idx ON evidence_checkpoints (tenant_id, id)`);

    await q.query(`
      CREATE FUNCTION evidence_never_changes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'evidence is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of ['evidence_leaves', 'evidence_tree_nodes', 'evidence_checkpoints']) {
      await q.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION evidence_never_changes()`);
      await q.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION evidence_never_changes()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER evidence_events_queue_leaves ON evidence_events`);
    await q.query(`DROP TABLE evidence_checkpoints, evidence_trees, evidence_tree_nodes, evidence_leaves, evidence_leaf_queue`);
    await q.query(`DROP FUNCTION evidence_never_changes()`);
    await q.query(`DROP FUNCTION evidence_queue_leaves()`);
  }
}
