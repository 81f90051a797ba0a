import { Injectable, Logger } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { createHash, verify as verifySignature, X509Certificate, constants } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { OutgoingHttp } from '../../common/http/outgoing-http.js';
import { paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { AppConfig } from '../../config/app-config.js';
import { OutgoingTimestampAuthority } from '../../signing/outgoing-timestamp-authority.js';
import { SigningKey } from '../../signing/signing-key.port.js';
import { CheckpointDto, ConsistencyProofDto, ListCheckpointsQueryDto } from './dto/checkpoint.dto.js';
import { EvidenceCheckpoint } from './entities/evidence-checkpoint.entity.js';
import {
  append,
  consistencyProof,
  frontierRefs,
  inclusionProof,
  leafHash,
  nodeHash,
  plan,
  rootOf,
  rootOfFrontier,
  verifyInclusion,
  type NodeRef,
  type NodeSource,
} from './merkle-tree.js';

/** Queued events turned into leaves per transaction (a backlog is drained in several, the checkpoint after the last). */
const ASSIGN_BATCH = 20_000;

/**
 * The lowest level of interior node that is stored. Below it (subtrees of 2 to 8 leaves, 7 of every 8 interior nodes)
 * a node is computed from its leaves when read: a proof reads at most 15 more leaves, an append writes an eighth of
 * the rows.
 */
const FIRST_STORED_LEVEL = 4;

/** The bytes a checkpoint's signature covers: the RFC 8785 JSON of {tenant_id, tree_size, root_hash, issued_at}. */
export function checkpointStatement(c: { tenantId: string; treeSize: number; rootHash: string; issuedAt: Date }): string {
  return canonicalize({ tenant_id: c.tenantId, tree_size: c.treeSize, root_hash: c.rootHash, issued_at: c.issuedAt.toISOString() })!;
}

/** An event's leaf in its tenant's tree: SHA-256(0x00 ‖ the event's hash as 32 bytes) — hashes only, so payloads may go. */
export function eventLeafHash(eventHash: string): Buffer {
  return leafHash(Buffer.from(eventHash, 'hex'));
}

/** Told of each checkpoint, in the transaction that stores it (the hooks above send it on). */
export type CheckpointListener = (m: EntityManager, checkpoint: EvidenceCheckpoint) => Promise<void>;

/** A process's place under the latest checkpoint: the leaf of its latest covered event and that leaf's proof. */
export interface ProcessInclusion {
  checkpoint: EvidenceCheckpoint;
  leafIndex: number;
  seq: number;
  proof: Buffer[];
}

/**
 * Merkle checkpoints of each tenant's evidence: every event is a leaf of the tenant's append-only RFC 9162 tree. The
 * job (`run`) drains the leaf queue the events' INSERT fills, under a per-tenant advisory lock (appends in the engine's
 * transaction take none), stores each completed subtree's hash (of 16 leaves or more), and every
 * EVIDENCE_CHECKPOINT_SECONDS when leaves were added signs `{tenant_id, tree_size, root_hash, issued_at}` with the
 * signing key (and, with TSA_URL, has the signature time-stamped). A checkpoint costs O(new leaves + log n); a proof reads O(log n) stored nodes in one query.
 */
@Injectable()
export class EvidenceCheckpoints {
  private readonly logger = new Logger(EvidenceCheckpoints.name);
  private readonly listeners: CheckpointListener[] = [];

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly key: SigningKey,
    private readonly http: OutgoingHttp,
  ) {}

  /** Registers a listener of new checkpoints (once, at start, by the module that owns it). */
  onIssued(listener: CheckpointListener): void {
    this.listeners.push(listener);
  }

  /** One run of the job: every tenant with queued events or uncheckpointed leaves; returns how many checkpoints it issued. */
  async run(options: { wait?: boolean } = {}): Promise<number> {
    await this.requeueIfLost();
    const rows: Array<{ tenant_id: string }> = await this.ds.query(
      `SELECT DISTINCT tenant_id FROM evidence_leaf_queue UNION SELECT tenant_id FROM evidence_trees WHERE size > checkpoint_size`,
    );
    let issued = 0;
    for (const { tenant_id } of rows) if (await this.runTenant(tenant_id, options)) issued += 1;
    return issued;
  }

  /**
   * After a crash PostgreSQL empties the (unlogged) leaf queue and its `evidence_leaf_queue_intact` row: every event
   * that is not a leaf is queued again, under an exclusive lock that the drains take shared (a drain running meanwhile
   * could make a leaf of an event this queues again). Events appended meanwhile were queued by their own INSERT.
   */
  private async requeueIfLost(): Promise<void> {
    const [{ intact }] = await this.ds.query(`SELECT EXISTS (SELECT FROM evidence_leaf_queue_intact) AS intact`);
    if (intact) return;
    await this.ds.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('evidence_leaf_queue', 0))`);
      const [again] = await m.query(`SELECT FROM evidence_leaf_queue_intact`);
      if (again) return;
      const [, requeued] = (await m.query(
        `INSERT INTO evidence_leaf_queue (event_id, tenant_id, process_id, seq, event_hash)
         SELECT e.id, e.tenant_id, e.process_id, e.seq, e.hash FROM evidence_events e
          WHERE NOT EXISTS (SELECT FROM evidence_leaves l WHERE l.process_id = e.process_id AND l.seq = e.seq)
         ON CONFLICT DO NOTHING`,
      )) as [unknown, number];
      await m.query(`INSERT INTO evidence_leaf_queue_intact VALUES (true)`);
      this.logger.warn(`The evidence leaf queue was lost (a database crash empties it): ${requeued} events that were not leaves queued again`);
    });
  }

  /** Turns a tenant's queued events into leaves and, when due, issues its checkpoint (null: none was due or another instance holds the tree). */
  async runTenant(tenantId: string, options: { wait?: boolean } = {}): Promise<EvidenceCheckpoint | null> {
    for (;;) {
      const outcome = await this.ds.transaction(async (m) => {
        // The cron skips a tree another instance is working on; `wait` (tools, tests) queues up behind it instead.
        // Shared with every drain, exclusive while a lost queue is filled again (requeueIfLost).
        const [{ locked }] = await m.query(
          options.wait
            ? `SELECT true AS locked FROM (SELECT pg_advisory_xact_lock_shared(hashtextextended('evidence_leaf_queue', 0)), pg_advisory_xact_lock(hashtextextended('evidence_tree:' || $1, 0))) AS l`
            : `SELECT pg_try_advisory_xact_lock(hashtextextended('evidence_tree:' || $1, 0)) AS locked FROM (SELECT pg_advisory_xact_lock_shared(hashtextextended('evidence_leaf_queue', 0))) AS q`,
          [tenantId],
        );
        if (!locked) return { done: true, checkpoint: null };
        const tree = await this.assign(m, tenantId, ASSIGN_BATCH);
        if (tree.more) return { done: false, checkpoint: null };
        return { done: true, checkpoint: await this.checkpointIfDue(m, tenantId, tree) };
      });
      if (outcome.done) return outcome.checkpoint;
    }
  }

  /** The latest checkpoint of a tenant, if any. */
  latest(m: EntityManager, tenantId: string): Promise<EvidenceCheckpoint | null> {
    return m.findOne(EvidenceCheckpoint, { where: { tenantId }, order: { treeSize: 'DESC' } });
  }

  async list(tenantId: string, q: ListCheckpointsQueryDto): Promise<{ data: CheckpointDto[]; next_cursor: string | null }> {
    const qb = this.ds.manager.createQueryBuilder(EvidenceCheckpoint, 'c').where('c.tenant_id = :tenantId', { tenantId });
    const { items, next_cursor } = await paginate(qb, q);
    return { data: items.map((c) => CheckpointDto.of(c)), next_cursor };
  }

  /** The consistency proof from the tree of `from` leaves to one of the tenant's checkpoints. */
  async consistency(tenantId: string, treeSize: number, from: number): Promise<ConsistencyProofDto> {
    const m = this.ds.manager;
    const checkpoint = await m.findOneBy(EvidenceCheckpoint, { tenantId, treeSize });
    if (!checkpoint) throw AppError.notFound('Checkpoint of tree size', String(treeSize));
    if (from > treeSize) throw AppError.validation('from', `from must be at most the checkpoint's tree_size (${treeSize})`);
    const { proof, fromRoot } = await this.compute(m, tenantId, (node) => ({ proof: consistencyProof(from, treeSize, node), fromRoot: rootOf(from, node) }));
    return { from, from_root_hash: fromRoot.toString('hex'), tree_size: treeSize, root_hash: checkpoint.rootHash, proof: proof.map((p) => p.toString('hex')) };
  }

  /** Under the tenant's latest checkpoint, the leaf of the process's latest covered event and its inclusion proof (null: not covered yet). */
  async inclusion(m: EntityManager, tenantId: string, processId: string): Promise<ProcessInclusion | null> {
    const checkpoint = await this.latest(m, tenantId);
    if (!checkpoint) return null;
    const [leaf]: Array<{ leaf_index: string; seq: number }> = await m.query(
      // A process has few leaves: read them by process (never a range scan of the tenant's tree), then filter.
      `WITH l AS MATERIALIZED (SELECT leaf_index, seq, tenant_id FROM evidence_leaves WHERE process_id = $1)
       SELECT leaf_index, seq FROM l WHERE tenant_id = $2 AND leaf_index < $3 ORDER BY seq DESC LIMIT 1`,
      [processId, tenantId, checkpoint.treeSize],
    );
    if (!leaf) return null;
    const leafIndex = Number(leaf.leaf_index);
    const proof = await this.compute(m, tenantId, (node) => inclusionProof(leafIndex, checkpoint.treeSize, node));
    return { checkpoint, leafIndex, seq: leaf.seq, proof };
  }

  /**
   * Whether the process's chain as recorded (`events`: seq and hash; payloads are not needed, so this holds after a
   * retention purge) is what the tenant's latest signed checkpoint covers: the leaf of its latest covered event,
   * recomputed from that event's hash, proves into the checkpoint's root, and the checkpoint's signature verifies.
   * Null when no checkpoint covers the process yet.
   */
  async checkProcess(m: EntityManager, tenantId: string, processId: string, events: ReadonlyArray<{ seq: number; hash: string }>): Promise<boolean | null> {
    const inclusion = await this.inclusion(m, tenantId, processId);
    if (!inclusion) return null;
    const event = events.find((e) => e.seq === inclusion.seq);
    if (!event) return false;
    const { checkpoint } = inclusion;
    const included = verifyInclusion(eventLeafHash(event.hash), inclusion.leafIndex, checkpoint.treeSize, inclusion.proof, Buffer.from(checkpoint.rootHash, 'hex'));
    return included && (await this.signatureValid(checkpoint));
  }

  /**
   * The last seq of the process that is a leaf, and the last one a signed checkpoint covers (null: none). A purge of
   * payloads keeps the checkpoints verifiable either way (leaves are hashes); it can wait for `checkpointed` to reach the
   * process's last seq so that the purged events are already under a checkpoint the client holds.
   */
  async coverage(m: EntityManager, tenantId: string, processId: string): Promise<{ leaf: number | null; checkpointed: number | null }> {
    const [row]: Array<{ leaf: number | null; checkpointed: number | null }> = await m.query(
      `WITH l AS MATERIALIZED (SELECT leaf_index, seq, tenant_id FROM evidence_leaves WHERE process_id = $1)
       SELECT max(l.seq) AS leaf,
              max(l.seq) FILTER (WHERE l.leaf_index < (SELECT max(tree_size) FROM evidence_checkpoints WHERE tenant_id = $2)) AS checkpointed
         FROM l WHERE l.tenant_id = $2`,
      [processId, tenantId],
    );
    return { leaf: row?.leaf ?? null, checkpointed: row?.checkpointed ?? null };
  }

  /**
   * The checkpoint's signature over its statement, under the signing certificate it was made with: the current one,
   * or an earlier one (a rotated key) issued by a CA of the current chain.
   */
  async signatureValid(c: EvidenceCheckpoint): Promise<boolean> {
    const chain = (await this.key.chain()).certificates.map((der) => new X509Certificate(Buffer.from(der)));
    const signing = c.signingCertificate ? new X509Certificate(Buffer.from(c.signingCertificate, 'base64')) : chain[0]!;
    const trusted = signing.raw.equals(chain[0]!.raw) || chain.slice(1).some((ca) => signing.checkIssued(ca) && signing.verify(ca.publicKey));
    if (!trusted) return false;
    const publicKey = signing.publicKey;
    const data = Buffer.from(checkpointStatement(c), 'utf8');
    const pss = c.signatureAlgorithm.startsWith('RSA-PSS');
    try {
      return verifySignature('sha256', data, pss ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING } : publicKey, Buffer.from(c.signature, 'base64'));
    } catch {
      return false;
    }
  }

  /** Leaves for up to `limit` queued events of the tenant, in the caller's transaction (which holds the tenant's lock). */
  private async assign(
    m: EntityManager,
    tenantId: string,
    limit: number,
  ): Promise<{ size: number; frontier: Buffer[]; more: boolean; checkpointSize: number; checkpointAt: Date }> {
    const [tree]: Array<{ size: string; checkpoint_size: string; checkpoint_at: Date | null }> = await m.query(
      `SELECT size, checkpoint_size, checkpoint_at FROM evidence_trees WHERE tenant_id = $1`,
      [tenantId],
    );
    const size = Number(tree?.size ?? 0);
    const refs = frontierRefs(size);
    const stored = await this.nodes(m, tenantId, refs);
    const frontier = refs.map(stored);
    // Queued events become leaves in one statement: indexes in the events' id order, leaf hashes computed by the
    // database (SHA-256(0x00 ‖ event hash), as eventLeafHash), handed back in order for the nodes above them.
    // No row locks: the tenant's advisory lock already keeps every other drain of this queue out. The leaves' hashes
    // come back as one bytea, 32 bytes each, in leaf order.
    const [{ hashes }]: Array<{ hashes: Buffer | null }> = await m.query(
      `WITH taken AS (
         DELETE FROM evidence_leaf_queue WHERE tenant_id = $1 AND event_id IN (
           SELECT event_id FROM evidence_leaf_queue WHERE tenant_id = $1 ORDER BY event_id LIMIT $2)
         RETURNING event_id, process_id, seq, event_hash),
       added AS (
         INSERT INTO evidence_leaves (tenant_id, leaf_index, event_id, process_id, seq, hash)
         SELECT $1, $3::bigint + row_number() OVER (ORDER BY event_id) - 1, event_id, process_id, seq, sha256('\\x00'::bytea || decode(event_hash, 'hex'))
           FROM taken
         RETURNING leaf_index, hash)
       SELECT string_agg(hash, ''::bytea ORDER BY leaf_index) AS hashes FROM added`,
      [tenantId, limit, size],
    );
    // A new tree's first checkpoint is due a period after its first leaf, like every later one after the one before.
    const started = this.clock.now();
    const state = { checkpointSize: Number(tree?.checkpoint_size ?? 0), checkpointAt: tree?.checkpoint_at ?? started };
    const leaves = Array.from({ length: (hashes?.length ?? 0) / 32 }, (_, i) => hashes!.subarray(i * 32, i * 32 + 32));
    if (leaves.length === 0) return { size, frontier, more: false, ...state };
    const grown = append(size, frontier, leaves);
    const inner = grown.nodes.filter((n) => n.level >= FIRST_STORED_LEVEL);
    if (inner.length > 0) {
      await m.query(
        `INSERT INTO evidence_tree_nodes (tenant_id, level, node_index, hash)
         SELECT $1, n.l, n.i, decode(n.h, 'hex') FROM unnest($2::smallint[], $3::bigint[], $4::text[]) AS n(l, i, h)`,
        [tenantId, inner.map((n) => n.level), inner.map((n) => n.index), inner.map((n) => n.hash.toString('hex'))],
      );
    }
    await m.query(`INSERT INTO evidence_trees (tenant_id, size, checkpoint_at) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET size = EXCLUDED.size`, [
      tenantId,
      grown.size,
      started,
    ]);
    return { size: grown.size, frontier: grown.frontier, more: leaves.length === limit, ...state };
  }

  /** Signs (and time-stamps) the tree when leaves were added and the last checkpoint is old enough. */
  private async checkpointIfDue(
    m: EntityManager,
    tenantId: string,
    tree: { size: number; frontier: Buffer[]; checkpointSize: number; checkpointAt: Date },
  ): Promise<EvidenceCheckpoint | null> {
    const now = this.clock.now();
    if (tree.size <= tree.checkpointSize) return null;
    if (now.getTime() - tree.checkpointAt.getTime() < this.config.EVIDENCE_CHECKPOINT_SECONDS * 1000) return null;
    const [signer, chain] = await Promise.all([this.key.signer(), this.key.chain()]);
    const checkpoint = m.create(EvidenceCheckpoint, {
      id: newId('CKP'),
      tenantId,
      treeSize: tree.size,
      rootHash: rootOfFrontier(tree.frontier).toString('hex'),
      issuedAt: now,
      signatureAlgorithm: `${signer.signatureAlgorithm}/SHA-256`,
      timestampToken: null,
      signingCertificate: Buffer.from(chain.certificates[0]!).toString('base64'),
    });
    const signature = Buffer.from(await signer.sign(Buffer.from(checkpointStatement(checkpoint), 'utf8'), 'SHA-256'));
    checkpoint.signature = signature.toString('base64');
    if (this.config.TSA_URL) {
      const tsa = new OutgoingTimestampAuthority(this.http, this.config.TSA_URL, this.config.TSA_TIMEOUT_MS);
      try {
        const token = await tsa.timestamp(createHash('sha256').update(signature).digest(), 'SHA-256');
        checkpoint.timestampToken = Buffer.from(token).toString('base64');
      } catch (err) {
        // Never a checkpoint without its time-stamp when one is configured: the leaves are kept, the next run tries again.
        this.logger.warn({ tenantId, error: (err as Error).message }, 'the time-stamping authority gave no token; the checkpoint waits for the next run');
        return null;
      }
    }
    await m.insert(EvidenceCheckpoint, checkpoint);
    await m.query(`UPDATE evidence_trees SET checkpoint_size = $2, checkpoint_at = $3 WHERE tenant_id = $1`, [tenantId, tree.size, now]);
    for (const listener of this.listeners) await listener(m, checkpoint);
    return checkpoint;
  }

  /** Runs a tree computation with the stored nodes it needs, read in one query. */
  private async compute<T>(m: EntityManager, tenantId: string, computation: (node: NodeSource) => T): Promise<T> {
    return computation(await this.nodes(m, tenantId, plan(computation)));
  }

  /** Reads the nodes `refs` name (level 0: leaves) of the tenant's tree: stored ones, and the unstored low ones from their leaves. */
  private async nodes(m: EntityManager, tenantId: string, refs: NodeRef[]): Promise<NodeSource> {
    const byKey = new Map<string, Buffer>();
    const leafIndexes = new Set<number>();
    const inner: NodeRef[] = [];
    for (const r of refs) {
      if (r.level >= FIRST_STORED_LEVEL) inner.push(r);
      else for (let i = r.index * 2 ** r.level; i < (r.index + 1) * 2 ** r.level; i++) leafIndexes.add(i);
    }
    if (refs.length > 0) {
      const rows: Array<{ level: number; node_index: string; hash: Buffer }> = await m.query(
        `SELECT 0 AS level, leaf_index AS node_index, hash FROM evidence_leaves WHERE tenant_id = $1 AND leaf_index = ANY($2::bigint[])
         UNION ALL
         SELECT r.level, r.node_index, n.hash FROM unnest($3::smallint[], $4::bigint[]) AS r(level, node_index)
           -- One primary-key lookup per node (a join could plan a scan of the tenant's whole tree).
           CROSS JOIN LATERAL (SELECT hash FROM evidence_tree_nodes WHERE tenant_id = $1 AND level = r.level AND node_index = r.node_index) AS n`,
        [tenantId, [...leafIndexes], inner.map((r) => r.level), inner.map((r) => r.index)],
      );
      for (const r of rows) byKey.set(`${r.level}:${r.node_index}`, r.hash);
    }
    const node: NodeSource = (ref) => {
      const key = `${ref.level}:${ref.index}`;
      let hash = byKey.get(key);
      if (!hash && ref.level > 0 && ref.level < FIRST_STORED_LEVEL) {
        hash = nodeHash(node({ level: ref.level - 1, index: 2 * ref.index }), node({ level: ref.level - 1, index: 2 * ref.index + 1 }));
        byKey.set(key, hash);
      }
      if (!hash) throw new Error(`evidence tree of ${tenantId}: node ${ref.level}:${ref.index} is missing`);
      return hash;
    };
    return node;
  }
}
