import { createHmac } from 'node:crypto';
import pg from 'pg';
import { FakeGraph } from '../fakes/fake-graph.js';
import { verifyChain, type EvidenceEvent } from '../../src/modules/evidence/evidence-log.js';
import type { ServiceProcess } from '../support/built-service.js';
import { ADMIN_TOKEN } from '../support/test-app.js';

/**
 * The fault suite's load: USERS users each start a flow on one cloud_api line and answer its questions, through
 * signed webhooks over 127.0.0.1, retrying every call not answered 200 the way Meta's sender does; prompts go to a
 * fake Graph API. 200 users of 4 questions (1,000 calls) by default, FAULT_USERS and FAULT_QUESTIONS to change it
 * (2,000 and 9: 20,000 calls): the suite must fit in 6 minutes on a 2-core machine, and most of a case's time is the
 * 60 s lease a dead instance's work waits out.
 */
export const USERS = Number(process.env.FAULT_USERS ?? 200);
export const QUESTIONS = Number(process.env.FAULT_QUESTIONS ?? 4);
/** Webhook calls per user: the keyword that starts the flow and one answer per question. */
export const CALLS_PER_USER = QUESTIONS + 1;
/** Prompts per user: the questions and the closing text. */
export const PROMPTS_PER_USER = QUESTIONS + 1;

export const LINE = {
  phone: '+573001239000',
  display: '573001239000',
  phoneNumberId: '109000000000001',
  wabaId: '108000000000001',
  accessToken: 'EAAG-fault-token',
  appSecret: 'fault-app-secret',
};

const FLOW = {
  name: 'fault load',
  steps: [
    ...Array.from({ length: QUESTIONS }, (_, i) => ({ id: `q${i}`, type: 'question', text: `Pregunta ${i + 1}`, validator: { type: 'text', min_length: 1 } })),
    { id: 'done', type: 'end', outcome: 'succeeded', text: 'Gracias' },
  ],
};

export const userPhone = (u: number) => String(573200000000 + u);
const wamid = (u: number, seq: number) => `wamid.FAULT${userPhone(u)}.${seq}`;

/** Call `seq` of user `u`: the start keyword, then answers. */
function call(u: number, seq: number): { raw: string; signature: string } {
  const from = userPhone(u);
  const raw = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: LINE.wabaId,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: LINE.display, phone_number_id: LINE.phoneNumberId },
              contacts: [{ profile: { name: `User ${u}` }, wa_id: from }],
              messages: [{ from, id: wamid(u, seq), timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: seq === 0 ? 'empezar' : `respuesta ${seq}` } }],
            },
          },
        ],
      },
    ],
  });
  return { raw, signature: 'sha256=' + createHmac('sha256', LINE.appSecret).update(raw).digest('hex') };
}

async function api(svc: ServiceProcess, method: string, pathname: string, body: unknown, headers: Record<string, string>) {
  const res = await svc.request(method, pathname, { body, headers });
  if (res.status >= 300) throw new Error(`${method} ${pathname}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A tenant, the flow, the line (at `throughputMps`) and the inbound trigger, through the API. */
export async function provision(svc: ServiceProcess, fake: FakeGraph, throughputMps: number): Promise<{ tenantId: string; apiKey: string }> {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const tenant = await api(svc, 'POST', '/v1/admin/tenants', { name: 'Faults' }, admin);
  const key = await api(svc, 'POST', `/v1/admin/tenants/${tenant.id}/api-keys`, { name: 'load' }, admin);
  const auth = { 'x-api-key': key.key as string };
  fake.addPhoneNumber({ id: LINE.phoneNumberId, phoneNumber: LINE.phone, accessToken: LINE.accessToken });
  const flow = await api(svc, 'POST', '/v1/flows', FLOW, auth);
  await api(
    svc,
    'POST',
    '/v1/whatsapp/numbers',
    {
      phone_number: LINE.phone,
      provider: 'cloud_api',
      phone_number_id: LINE.phoneNumberId,
      waba_id: LINE.wabaId,
      access_token: LINE.accessToken,
      app_secret: LINE.appSecret,
      verify_token: 'fault-verify',
      throughput_mps: throughputMps,
    },
    auth,
  );
  await api(svc, 'POST', '/v1/whatsapp/inbounds', { waba_phone_number: LINE.phone, flow_id: flow.id, inbound_message: 'empezar' }, auth);
  return { tenantId: tenant.id as string, apiKey: key.key as string };
}

export interface LoadFigures {
  /** Calls answered 200 (each call counted once, however many tries it took). */
  acked: number;
  /** Tries, by answer: `200`, `503`, `500`, `error` (connection refused or cut, timeout)… */
  tries: Record<string, number>;
  /** The longest any try waited for its answer. */
  maxTryMs: number;
  /** 503 answers without a Retry-After header. */
  without503RetryAfter: number;
  seconds: number;
}

/**
 * Runs the load against `targets()` (read at every try, so a test can swap a restarted service in), users spread
 * over them round robin. `onProgress` sees the count of acknowledged calls after each one.
 */
export async function runLoad(targets: () => string[], opts: { concurrency?: number; onProgress?: (acked: number) => void } = {}): Promise<LoadFigures> {
  const tries: Record<string, number> = {};
  let acked = 0;
  let maxTryMs = 0;
  let without503RetryAfter = 0;
  const t0 = performance.now();
  const post = async (u: number, seq: number) => {
    const { raw, signature } = call(u, seq);
    for (let attempt = 0; ; attempt++) {
      const urls = targets();
      const url = urls[(u + attempt) % urls.length]!;
      const started = performance.now();
      let outcome: string;
      try {
        const res = await fetch(`${url}/v1/whatsapp/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
          body: raw,
          signal: AbortSignal.timeout(15_000),
        });
        await res.arrayBuffer();
        outcome = String(res.status);
        if (res.status === 503 && !res.headers.get('retry-after')) without503RetryAfter++;
      } catch {
        outcome = 'error';
      }
      maxTryMs = Math.max(maxTryMs, performance.now() - started);
      tries[outcome] = (tries[outcome] ?? 0) + 1;
      if (outcome === '200') break;
      // Meta backs off and tries again; shortened here.
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 1000) * (0.5 + Math.random())));
    }
    acked++;
    opts.onProgress?.(acked);
  };
  let next = 0;
  const concurrency = opts.concurrency ?? 64;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, USERS) }, async () => {
      for (let u = next++; u < USERS; u = next++) for (let seq = 0; seq < CALLS_PER_USER; seq++) await post(u, seq);
    }),
  );
  return { acked, tries, maxTryMs: Math.round(maxTryMs), without503RetryAfter, seconds: (performance.now() - t0) / 1000 };
}

export interface Outcome {
  /** Users whose process finished (succeeded) with every answer applied once. */
  complete: number;
  /** Acknowledged calls with no inbound message row, or with more than one. */
  lostCalls: number;
  /** Prompts the engine committed (outbound rows) that the fake Graph API never received. */
  undelivered: number;
  /** Prompts the fake Graph API received more than once (extra copies). */
  duplicates: number;
  processes: number;
  backlog: Record<string, number>;
}

/**
 * Waits (up to `ms`) until every user's process has succeeded and every prompt is sent, then compares the database
 * with the fake Graph API's records.
 */
export async function settle(databaseUrl: string, fake: FakeGraph, ms = Number(process.env.FAULT_SETTLE_MS ?? 120_000)): Promise<Outcome> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const deadline = Date.now() + ms;
    for (;;) {
      const { rows } = await db.query(
        `SELECT (SELECT count(*)::int FROM processes WHERE status = 'succeeded') AS done,
                (SELECT count(*)::int FROM messages WHERE direction = 'outbound' AND status = 'queued') AS queued`,
      );
      if ((rows[0].done >= USERS && rows[0].queued === 0) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const inbound = await db.query(
      `SELECT provider_message_id AS id, count(*)::int AS n FROM messages WHERE direction = 'inbound' AND provider_message_id LIKE 'wamid.FAULT%' GROUP BY 1`,
    );
    const inboundById = new Map<string, number>(inbound.rows.map((r: { id: string; n: number }) => [r.id, r.n]));
    let lostCalls = 0;
    for (let u = 0; u < USERS; u++) for (let seq = 0; seq < CALLS_PER_USER; seq++) if (inboundById.get(wamid(u, seq)) !== 1) lostCalls++;
    const processes = await db.query(`SELECT phone, status FROM processes`);
    const outbound = await db.query(`SELECT phone, count(*)::int AS n FROM messages WHERE direction = 'outbound' AND status <> 'failed' GROUP BY phone`);
    const committed = new Map<string, number>(outbound.rows.map((r: { phone: string; n: number }) => [r.phone.replace('+', ''), r.n]));
    const received = new Map<string, Map<string, number>>();
    for (const m of fake.sent) {
      const texts = received.get(m.to) ?? new Map<string, number>();
      const text = JSON.stringify(m.body.text ?? m.body.interactive ?? m.body);
      texts.set(text, (texts.get(text) ?? 0) + 1);
      received.set(m.to, texts);
    }
    let undelivered = 0;
    let duplicates = 0;
    let complete = 0;
    const byPhone = new Map<string, string[]>();
    for (const p of processes.rows as Array<{ phone: string; status: string }>) byPhone.set(p.phone.replace('+', ''), [...(byPhone.get(p.phone.replace('+', '')) ?? []), p.status]);
    for (let u = 0; u < USERS; u++) {
      const phone = userPhone(u);
      const texts = received.get(phone) ?? new Map<string, number>();
      undelivered += Math.max(0, (committed.get(phone) ?? 0) - texts.size);
      for (const n of texts.values()) duplicates += n - 1;
      const statuses = byPhone.get(phone) ?? [];
      if (statuses.length === 1 && statuses[0] === 'succeeded' && committed.get(phone) === PROMPTS_PER_USER && texts.size === PROMPTS_PER_USER) complete++;
    }
    // Where the work stands (read when a case fails).
    const state = await db.query(
      `SELECT 'messages.' || direction || '.' || status AS k, count(*)::int AS n FROM messages GROUP BY 1
       UNION ALL SELECT 'webhook_events.' || status, count(*)::int FROM webhook_events GROUP BY 1
       UNION ALL SELECT 'processes.' || status, count(*)::int FROM processes GROUP BY 1`,
    );
    const backlog = Object.fromEntries(state.rows.map((r: { k: string; n: number }) => [r.k, r.n]));
    return { complete, lostCalls, undelivered, duplicates, processes: processes.rowCount ?? 0, backlog };
  } finally {
    await db.end();
  }
}

export interface EvidenceOutcome {
  events: number;
  /** Events that are leaves of their tenant's Merkle tree (each at most once: a unique index). */
  leaves: number;
  /** Events recorded by modules that do not hold the process row, not yet appended to its chain. */
  deferred: number;
  /** Processes whose hash chain does not recompute, or whose head on the process row is not its last event's. */
  brokenChains: number;
  byType: Record<string, number>;
}

/**
 * Waits (up to `ms`) until the checkpoint job has made a leaf of every evidence event, then recomputes every process's
 * chain.
 */
export async function evidenceOutcome(databaseUrl: string, ms = 30_000): Promise<EvidenceOutcome> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const counts = async () =>
      (
        await db.query(
          `SELECT (SELECT count(*)::int FROM evidence_events) AS events, (SELECT count(*)::int FROM evidence_leaves) AS leaves,
                  (SELECT count(*)::int FROM evidence_deferred) AS deferred`,
        )
      ).rows[0] as { events: number; leaves: number; deferred: number };
    const deadline = Date.now() + ms;
    let c = await counts();
    while ((c.leaves < c.events || c.deferred > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      c = await counts();
    }
    const { rows } = await db.query(
      `SELECT p.id, p.evidence_head, e.seq, e.type, e.occurred_at, e.payload, e.prev_hash, e.hash
         FROM processes p JOIN evidence_events e ON e.process_id = p.id ORDER BY p.id, e.seq`,
    );
    const chains = new Map<string, { head: string; events: EvidenceEvent[] }>();
    for (const r of rows) {
      const chain = chains.get(r.id) ?? { head: r.evidence_head as string, events: [] as EvidenceEvent[] };
      chain.events.push({ seq: r.seq, type: r.type, occurred_at: r.occurred_at.toISOString(), payload: r.payload, prev_hash: r.prev_hash, hash: r.hash });
      chains.set(r.id, chain);
    }
    let brokenChains = 0;
    for (const { head, events } of chains.values()) {
      const verified = verifyChain(events);
      if (!verified.valid || verified.head !== head) brokenChains++;
    }
    const types = await db.query(`SELECT type, count(*)::int AS n FROM evidence_events GROUP BY type ORDER BY type`);
    return {
      events: c.events,
      leaves: c.leaves,
      deferred: c.deferred,
      brokenChains,
      byType: Object.fromEntries(types.rows.map((r: { type: string; n: number }) => [r.type, r.n])),
    };
  } finally {
    await db.end();
  }
}

/** One line of figures for the CI log. */
export function report(name: string, figures: Record<string, unknown>): void {
  process.stdout.write(`[fault] ${name}: ${JSON.stringify(figures)}\n`);
}
