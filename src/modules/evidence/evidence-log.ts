import { Injectable } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { hash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { parseWellFormedJson } from '../../common/text/well-formed-json.js';
import { WriteBehind, type BatchStatement } from '../../database/write-behind.js';

/** The `prev_hash` of a chain's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** Where a process's chain stands: its last `seq` (0 when empty) and that event's hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** Something that happened, to be recorded. Payloads hold ids, hashes and states: never a one-time code. */
export interface EvidenceInput {
  type: string;
  occurredAt: Date;
  payload: Record<string, unknown>;
}

/** A recorded event, as the API shows it and as its hash covers it. */
export interface EvidenceEvent {
  seq: number;
  type: string;
  occurred_at: string;
  payload: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** An event's row as it is inserted: `payload` is its canonical text, byte for byte what the hash covers. */
interface EventRow {
  tenantId: string;
  processId: string;
  seq: number;
  type: string;
  occurredAt: string;
  payload: string;
  prevHash: string;
  hash: string;
}

/**
 * One INSERT for every event a transaction records (with write-behind, sent with its next statement), column by
 * column. The payloads travel as one text, one per line: RFC 8785 text has no raw newline (JSON escapes control
 * characters in strings, and has no whitespace outside them), so nothing in it is escaped, and each reaches the `json`
 * column, which keeps the text it is given, byte for byte as hashed. (One JSON document of rows cost the database a
 * third more: json_to_recordset's parse of every row.)
 */
const INSERT_EVENTS: BatchStatement<EventRow> = {
  sql: `INSERT INTO evidence_events (tenant_id, process_id, seq, type, occurred_at, payload, prev_hash, hash)
        SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], string_to_array($6, E'\\n')::json[], $7::text[], $8::text[])`,
  params: (rows) => [
    rows.map((r) => r.tenantId),
    rows.map((r) => r.processId),
    rows.map((r) => r.seq),
    rows.map((r) => r.type),
    rows.map((r) => r.occurredAt),
    rows.map((r) => r.payload).join('\n'),
    rows.map((r) => r.prevHash),
    rows.map((r) => r.hash),
  ],
};

/** Something to record in a process's chain, from a module that does not hold its row. */
export interface DeferredEvidence extends EvidenceInput {
  tenantId: string;
  processId: string;
}

const INSERT_DEFERRED: BatchStatement<DeferredEvidence> = {
  sql: `INSERT INTO evidence_deferred (tenant_id, process_id, type, occurred_at, payload)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[])`,
  params: (rows) => [rows.map((r) => r.tenantId), rows.map((r) => r.processId), rows.map((r) => r.type), rows.map((r) => r.occurredAt), rows.map((r) => JSON.stringify(r.payload))],
};

/**
 * A payload's RFC 8785 canonical JSON, which is also what is stored, as is (no undefined, Dates as their ISO strings).
 * What RFC 8785 has no form for is recorded as JSON writes it, never refused (evidence must not fail the change it
 * records): NaN and Infinity as null, and a lone UTF-16 surrogate (which a webhook's `\ud800` escape can carry into a
 * message's text) as U+FFFD.
 */
function canonicalPayload(payload: Record<string, unknown>): string {
  try {
    return canonicalize(payload)!;
  } catch {
    // JSON.stringify writes NaN and Infinity as null and a lone surrogate as its escape, which the parse mends.
    return canonicalize(parseWellFormedJson(JSON.stringify(payload)))!;
  }
}

/**
 * `{seq, type, occurred_at, payload}` in RFC 8785 form around an already canonical payload: members in code-unit
 * order (occurred_at < payload < seq < type), strings as JSON.stringify writes them (which RFC 8785 adopts), seq an
 * integer. The same bytes canonicalize gives for the whole object (evidence-log.spec.ts), with the payload, the bulk
 * of it, serialised once.
 */
function canonicalAround(seq: number, type: string, occurredAt: string, payload: string): string {
  return `{"occurred_at":${JSON.stringify(occurredAt)},"payload":${payload},"seq":${seq},"type":${JSON.stringify(type)}}`;
}

/** The bytes an event's hash covers after the previous hash: its RFC 8785 canonical JSON, without the hashes. */
export function canonicalEvent(e: Pick<EvidenceEvent, 'seq' | 'type' | 'occurred_at' | 'payload'>): string {
  return canonicalAround(e.seq, e.type, e.occurred_at, canonicalPayload(e.payload));
}

/** SHA-256 of the previous hash's 32 bytes then the canonical text's UTF-8, hashed in one call. */
function hashOf(prevHash: string, canonical: string): string {
  const bytes = Buffer.allocUnsafe(32 + Buffer.byteLength(canonical, 'utf8'));
  if (bytes.write(prevHash, 0, 'hex') !== 32) throw new Error(`not a SHA-256 in hex: ${prevHash}`);
  bytes.write(canonical, 32, 'utf8');
  return hash('sha256', bytes, 'hex');
}

/** hash = SHA-256(prev_hash ‖ canonical event), prev_hash as its 32 bytes. */
export function eventHash(prevHash: string, e: Pick<EvidenceEvent, 'seq' | 'type' | 'occurred_at' | 'payload'>): string {
  return hashOf(prevHash, canonicalEvent(e));
}

/**
 * Recomputes a chain: every event's prev_hash is the hash before it (GENESIS_HASH first), its hash is what its content
 * gives, and seq counts 1, 2, … `brokenAt` is the seq of the first event that fails.
 */
export function verifyChain(events: readonly EvidenceEvent[]): { valid: boolean; brokenAt: number | null; head: string } {
  let prev = GENESIS_HASH;
  for (const [i, e] of events.entries()) {
    if (e.seq !== i + 1 || e.prev_hash !== prev || eventHash(prev, e) !== e.hash) return { valid: false, brokenAt: i + 1, head: prev };
    prev = e.hash;
  }
  return { valid: true, brokenAt: null, head: prev };
}

/**
 * The evidence log: per process, a hash chain of what happened, appended in the transaction of the change it records.
 * The caller holds the chain head (the engine keeps it on the process row it has locked) and stores the head returned.
 */
@Injectable()
export class EvidenceLog {
  /** Appends `inputs` after `head`, in `m`'s transaction; returns the new head (the same head when there is nothing). */
  async append(m: EntityManager, at: { tenantId: string; processId: string; head: ChainHead }, inputs: readonly EvidenceInput[]): Promise<ChainHead> {
    let head = at.head;
    for (const input of inputs) {
      // Serialised once: the canonical payload is both what the hash covers and what is stored.
      const payload = canonicalPayload(input.payload);
      const seq = head.seq + 1;
      const occurredAt = input.occurredAt.toISOString();
      const hash = hashOf(head.hash, canonicalAround(seq, input.type, occurredAt, payload));
      await WriteBehind.batch(m, INSERT_EVENTS, { tenantId: at.tenantId, processId: at.processId, seq, type: input.type, occurredAt, payload, prevHash: head.hash, hash });
      head = { seq, hash };
    }
    return head;
  }

  /**
   * The retention purge of a process's events, through the database's `evidence_purge` (the one path past the
   * append-only trigger): it leaves a tombstone with the chain's last seq and head, then deletes the events.
   */
  async purge(m: EntityManager, at: { tenantId: string; processId: string; head: ChainHead; purgedAt: Date }): Promise<void> {
    await m.query(`SELECT evidence_purge($1, $2, $3, $4, $5)`, [at.processId, at.tenantId, at.head.hash, at.head.seq, at.purgedAt]);
  }

  /** What is left of a purged process's chain, or null when it was not purged. */
  async tombstone(m: EntityManager, processId: string): Promise<{ seq: number; head: string; purgedAt: Date } | null> {
    const [row]: Array<{ seq: number; head: string; purged_at: Date }> = await m.query(`SELECT seq, head, purged_at FROM evidence_tombstones WHERE process_id = $1`, [processId]);
    return row ? { seq: row.seq, head: row.head, purgedAt: row.purged_at } : null;
  }

  /**
   * Records events of processes whose row the caller does not hold, in `m`'s transaction (with write-behind, sent with
   * its next statement): the engine appends them to each chain soon after (`takeDeferred`), in the order written.
   */
  async defer(m: EntityManager, rows: readonly DeferredEvidence[]): Promise<void> {
    if (rows.length === 0) return;
    if (!WriteBehind.of(m)) {
      await m.query(INSERT_DEFERRED.sql, INSERT_DEFERRED.params([...rows]));
      return;
    }
    for (const row of rows) await WriteBehind.batch(m, INSERT_DEFERRED, row);
  }

  /** Processes with deferred events waiting, oldest first. */
  async deferredProcesses(m: EntityManager, limit: number): Promise<string[]> {
    const rows: Array<{ process_id: string }> = await m.query(`SELECT process_id FROM evidence_deferred GROUP BY process_id ORDER BY min(id) LIMIT $1`, [limit]);
    return rows.map((r) => r.process_id);
  }

  /** Takes (deletes and returns, in the order written) a process's deferred events, in `m`'s transaction. */
  async takeDeferred(m: EntityManager, processId: string): Promise<EvidenceInput[]> {
    const [rows] = (await m.query(`DELETE FROM evidence_deferred WHERE process_id = $1 RETURNING id, type, occurred_at, payload`, [processId])) as [
      Array<{ id: string; type: string; occurred_at: Date; payload: Record<string, unknown> }>,
      number,
    ];
    return rows.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id))).map((r) => ({ type: r.type, occurredAt: r.occurred_at, payload: r.payload }));
  }

  /** A process's events, in order. */
  async events(m: EntityManager, processId: string): Promise<EvidenceEvent[]> {
    const rows: Array<{ seq: number; type: string; occurred_at: Date; payload: Record<string, unknown>; prev_hash: string; hash: string }> = await m.query(
      `SELECT seq, type, occurred_at, payload, prev_hash, hash FROM evidence_events WHERE process_id = $1 ORDER BY seq`,
      [processId],
    );
    return rows.map((r) => ({ seq: r.seq, type: r.type, occurred_at: r.occurred_at.toISOString(), payload: r.payload, prev_hash: r.prev_hash, hash: r.hash }));
  }
}
