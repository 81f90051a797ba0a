import canonicalize from 'canonicalize';
import fc from 'fast-check';
import type { EntityManager } from 'typeorm';
import { canonicalEvent, EvidenceLog, GENESIS_HASH, verifyChain, type EvidenceEvent } from './evidence-log.js';

/**
 * A manager without write-behind: each append is one INSERT, whose parameter (the rows' JSON array) is kept as sent,
 * and its rows as the stored events (each payload parsed, as the database gives it back).
 */
function recordingManager(): { m: EntityManager; stored: EvidenceEvent[]; sent: string[] } {
  const stored: EvidenceEvent[] = [];
  const sent: string[] = [];
  const query = async (_sql: string, [rows]: [string]) => {
    sent.push(rows);
    stored.push(...(JSON.parse(rows) as EvidenceEvent[]).map(({ seq, type, occurred_at, payload, prev_hash, hash }) => ({ seq, type, occurred_at, payload, prev_hash, hash })));
    return [];
  };
  return { m: { query } as unknown as EntityManager, stored, sent };
}

const at = { tenantId: 'TEN1', processId: 'PRC1', head: { seq: 0, hash: GENESIS_HASH } };

describe('EvidenceLog', () => {
  it('writes the canonical event as canonicalize writes the whole object, for any JSON payload', () => {
    fc.assert(
      fc.property(fc.nat(), fc.string(), fc.date({ noInvalidDate: true }), fc.dictionary(fc.string(), fc.jsonValue()), (seq, type, when, payload) => {
        const e = { seq, type, occurred_at: when.toISOString(), payload };
        expect(canonicalEvent(e)).toBe(canonicalize({ seq, type, occurred_at: e.occurred_at, payload }));
      }),
    );
  });

  it('stores exactly what its hashes cover: the stored chain verifies, undefined, Dates and NaN included', async () => {
    const { m, stored, sent } = recordingManager();
    const log = new EvidenceLog();
    const when = new Date('2026-03-01T10:00:00.000Z');
    const head = await log.append(m, at, [
      { type: 'message.received', occurredAt: when, payload: { text: 'Hola “señor” \u2028', missing: undefined, at: when, n: 1.5, nested: { b: 2, a: [1, null] } } },
      { type: 'otp.failed', occurredAt: when, payload: { attempts: Number.NaN, left: Infinity } },
      { type: 'message.received', occurredAt: when, payload: { text: 'a\ud800b', ['k\udfff']: 1 } },
    ]);
    expect(stored.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(stored[0]!.payload).toEqual({ text: 'Hola “señor” \u2028', at: '2026-03-01T10:00:00.000Z', n: 1.5, nested: { b: 2, a: [1, null] } });
    expect(stored[1]!.payload).toEqual({ attempts: null, left: null });
    expect(stored[2]!.payload).toEqual({ text: 'a\ufffdb', 'k\ufffd': 1 });
    // Each payload is sent as its canonical text (what the json column keeps), the one its hash covers.
    expect(sent.map((rows, i) => rows.includes(`"payload":${canonicalize(stored[i]!.payload)},`))).toEqual([true, true, true]);
    expect(verifyChain(stored)).toEqual({ valid: true, brokenAt: null, head: head.hash });
    expect(head).toEqual({ seq: 3, hash: stored[2]!.hash });
  });

  it('a changed payload breaks the chain at its seq', async () => {
    const { m, stored } = recordingManager();
    const when = new Date('2026-03-01T10:00:00.000Z');
    await new EvidenceLog().append(
      m,
      at,
      [1, 2, 3].map((i) => ({ type: 'answer', occurredAt: when, payload: { i } })),
    );
    stored[1]!.payload = { i: 20 };
    expect(verifyChain(stored)).toMatchObject({ valid: false, brokenAt: 2 });
  });
});
