import canonicalize from 'canonicalize';
import fc from 'fast-check';
import type { EntityManager } from 'typeorm';
import { WriteBehind } from '../../database/write-behind.js';
import { canonicalEvent, EvidenceLog, GENESIS_HASH, verifyChain, type EvidenceEvent } from './evidence-log.js';

/**
 * A manager whose INSERTs are recorded: the payloads (one text, a line each, as the database splits it) as sent, and
 * the rows as the stored events (each payload parsed, as the database gives it back). Without write-behind each
 * append is one INSERT a row; with it (`flush` sends what is held) a transaction's events are one INSERT.
 */
function recordingManager(options: { writeBehind?: boolean } = {}): { m: EntityManager; stored: EvidenceEvent[]; sent: string[]; flush(): Promise<void> } {
  const stored: EvidenceEvent[] = [];
  const sent: string[] = [];
  type Params = [string[], string[], number[], string[], string[], string, string[], string[]];
  const query = async (_sql: string, [, , seqs, types, times, payloads, prevs, hashes]: Params) => {
    const lines = payloads.split('\n');
    expect(lines).toHaveLength(seqs.length);
    sent.push(...lines);
    stored.push(...lines.map((line, i) => ({ seq: seqs[i]!, type: types[i]!, occurred_at: times[i]!, payload: JSON.parse(line), prev_hash: prevs[i]!, hash: hashes[i]! })));
    return [];
  };
  const m = { query, ...(options.writeBehind ? { queryRunner: { isTransactionActive: true, query, data: {} } } : {}) } as unknown as EntityManager;
  if (options.writeBehind) WriteBehind.attach(m);
  return { m, stored, sent, flush: async () => WriteBehind.of(m)?.flush() };
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
      { type: 'message.received', occurredAt: when, payload: { text: 'Hola “señor” \u2028\nline\r\n', missing: undefined, at: when, n: 1.5, nested: { b: 2, a: [1, null] } } },
      { type: 'otp.failed', occurredAt: when, payload: { attempts: Number.NaN, left: Infinity } },
      { type: 'message.received', occurredAt: when, payload: { text: 'a\ud800b', ['k\udfff']: 1 } },
    ]);
    expect(stored.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(stored[0]!.payload).toEqual({ text: 'Hola “señor” \u2028\nline\r\n', at: '2026-03-01T10:00:00.000Z', n: 1.5, nested: { b: 2, a: [1, null] } });
    expect(stored[1]!.payload).toEqual({ attempts: null, left: null });
    expect(stored[2]!.payload).toEqual({ text: 'a\ufffdb', 'k\ufffd': 1 });
    // Each payload is sent as its canonical text (what the json column keeps), the one its hash covers.
    expect(sent).toEqual(stored.map((e) => canonicalize(e.payload)));
    expect(verifyChain(stored)).toEqual({ valid: true, brokenAt: null, head: head.hash });
    expect(head).toEqual({ seq: 3, hash: stored[2]!.hash });
  });

  it("sends a transaction's payloads in one INSERT, a line each, whatever their text holds", async () => {
    await fc.assert(
      // Control characters (newlines among them) in keys and strings.
      fc.asyncProperty(
        fc.array(fc.dictionary(fc.string({ unit: 'binary-ascii' }), fc.jsonValue({ stringUnit: 'binary-ascii' })), { minLength: 1, maxLength: 5 }),
        async (payloads) => {
          // With write-behind: all of them in one INSERT, their payloads joined.
          const { m, stored, sent, flush } = recordingManager({ writeBehind: true });
          const when = new Date('2026-03-01T10:00:00.000Z');
          await new EvidenceLog().append(
            m,
            at,
            payloads.map((payload) => ({ type: 'x', occurredAt: when, payload })),
          );
          expect(sent).toEqual([]);
          await flush();
          expect(stored.map((e) => canonicalize(e.payload))).toEqual(payloads.map((p) => canonicalize(p)));
          expect(verifyChain(stored).valid).toBe(true);
        },
      ),
    );
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
