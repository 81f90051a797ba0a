import { jest } from '@jest/globals';
import { MessageRetentionCron } from '../src/modules/conversations/message-retention.cron.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const DAY = 86_400_000;

/**
 * MESSAGES_RETENTION_DAYS: bodies and media of finished processes' messages are deleted after the retention (the
 * tenant's own when set through PATCH /v1/settings), in batches; running processes, recent ones, queued sends and the
 * evidence log are left.
 */
describe('Retention of message bodies', () => {
  jest.setTimeout(60_000);
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('purges what is past its tenant retention, and only that', async () => {
    const a = await t.newTenant('Default retention');
    const b = await t.newTenant('Own retention');
    const settings = await t.http.patch('/v1/settings').set('Truora-API-Key', b.apiKey).send({ messages_retention_days: 30 }).expect(200);
    expect(settings.body.messages_retention_days).toBe(30);
    await t.http.patch('/v1/settings').set('Truora-API-Key', b.apiKey).send({ messages_retention_days: 0 }).expect(400);
    expect((await t.http.get('/v1/settings').set('Truora-API-Key', a.apiKey).expect(200)).body.messages_retention_days).toBeNull();

    const now = t.clock.now().getTime();
    const ago = (days: number) => new Date(now - days * DAY);
    for (const [tenant, line] of [
      [a.tenantId, 'WANRETA'],
      [b.tenantId, 'WANRETB'],
    ]) {
      await t.db.query(`INSERT INTO whatsapp_lines (id, tenant_id, phone_number, provider) VALUES ($1, $2, $3, 'sandbox')`, [
        line,
        tenant,
        `+1415555${line === 'WANRETA' ? '0201' : '0202'}`,
      ]);
    }
    // [process, tenant, line, status, finished days ago]
    const processes: Array<[string, string, string, string, number | null]> = [
      ['PRCOLDA', a.tenantId, 'WANRETA', 'succeeded', 401], // past the default 400 days
      ['PRCKEPTA', a.tenantId, 'WANRETA', 'failed', 300], // within them
      ['PRCOLDB', b.tenantId, 'WANRETB', 'expired', 31], // past the tenant's 30
      ['PRCKEPTB', b.tenantId, 'WANRETB', 'cancelled', 10],
      ['PRCRUNB', b.tenantId, 'WANRETB', 'pending', null], // still running
    ];
    for (const [id, tenant, line, status, days] of processes) {
      await t.db.query(
        `INSERT INTO processes (id, tenant_id, line_id, phone, flow_id, flow_version, origin, status, started_at, finished_at, expires_at, updated_at)
         VALUES ($1, $2, $3, '+573001112233', 'FLW0', 1, 'inbound', $4, $5, $6, $5, $5)`,
        [id, tenant, line, status, ago(500), days === null ? null : ago(days)],
      );
      // 1,200 messages each (more than one batch), one with a media file; one send still queued.
      await t.db.query(
        `INSERT INTO messages (id, tenant_id, line_id, phone, direction, type, content, status, conversation_id, created_at)
         SELECT $1 || '-' || i, $2, $3, '+573001112233', 'inbound', 'text', jsonb_build_object('text', 'secret ' || i), CASE WHEN i = 0 THEN 'queued' ELSE 'received' END, $1, $4
           FROM generate_series(0, 1199) i`,
        [id, tenant, line, ago(450)],
      );
      await t.db.query(
        `INSERT INTO media_files (id, tenant_id, message_id, line_id, provider_media_id, status, created_at) VALUES ($1 || '-media', $2, $1 || '-1', $3, 'm', 'stored', $4)`,
        [id, tenant, line, ago(450)],
      );
      await t.db.query(
        `INSERT INTO evidence_events (tenant_id, process_id, seq, type, occurred_at, payload, prev_hash, hash) VALUES ($1, $2, 1, 'message', $3, '{"text":"secret"}', '', 'h')`,
        [tenant, id, ago(450)],
      );
    }

    const result = await t.app.get(MessageRetentionCron).purgeExpired();
    expect(result).toEqual({ processes: 2, messages: 2 * 1199, media: 2 });

    const rows = await t.db.query(
      `SELECT conversation_id AS id, count(*) FILTER (WHERE purged_at IS NOT NULL)::int AS purged,
              count(*) FILTER (WHERE content::text LIKE '%secret%')::int AS bodies
         FROM messages WHERE conversation_id LIKE 'PRC%' GROUP BY 1 ORDER BY 1`,
    );
    expect(Object.fromEntries(rows.map((r: { id: string; purged: number; bodies: number }) => [r.id, [r.purged, r.bodies]]))).toEqual({
      PRCKEPTA: [0, 1200],
      PRCKEPTB: [0, 1200],
      PRCOLDA: [1199, 1], // the queued send keeps its body
      PRCOLDB: [1199, 1],
      PRCRUNB: [0, 1200],
    });
    const media = await t.db.query(`SELECT id FROM media_files WHERE id LIKE 'PRC%' ORDER BY id`);
    expect(media.map((m: { id: string }) => m.id)).toEqual(['PRCKEPTA-media', 'PRCKEPTB-media', 'PRCRUNB-media']);
    // The evidence log is never touched.
    expect((await t.db.query(`SELECT count(*)::int AS n FROM evidence_events WHERE payload::text LIKE '%secret%'`))[0].n).toBe(5);
    // A second run finds nothing left.
    expect(await t.app.get(MessageRetentionCron).purgeExpired()).toEqual({ processes: 0, messages: 0, media: 0 });
  });
});
