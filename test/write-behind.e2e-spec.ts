import { DataSource, EntityManager } from 'typeorm';
import { WriteBehind, type BatchStatement } from '../src/database/write-behind.js';
import { ApiKey } from '../src/modules/tenants/entities/api-key.entity.js';
import { Tenant } from '../src/modules/tenants/entities/tenant.entity.js';
import { createTestApp, type TestApp } from './support/test-app.js';

/** Counts the statements a transaction sends to PostgreSQL. */
function counting(m: EntityManager): string[] {
  const sent: string[] = [];
  const runner = m.queryRunner!;
  const query = runner.query.bind(runner);
  runner.query = ((sql: string, ...rest: unknown[]) => {
    sent.push(sql.trim().split(/\s+/).slice(0, 3).join(' '));
    return (query as (...a: unknown[]) => Promise<unknown>)(sql, ...rest);
  }) as typeof runner.query;
  return sent;
}

const names = async (db: DataSource, prefix: string) =>
  (await db.query(`SELECT id, name, settings FROM tenants WHERE id LIKE $1 ORDER BY id`, [`${prefix}%`])) as Array<{ id: string; name: string; settings: object }>;

describe('write-behind', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS_ENABLED: 'false' } });
  });
  afterAll(() => t.close());

  it('holds inserts and updates back until the next statement, one statement per table and set of columns', async () => {
    let sent: string[] = [];
    const seen = await t.db.transaction(async (m) => {
      const log = (sent = counting(m));
      WriteBehind.attach(m);
      await WriteBehind.insert(m, Tenant, [{ id: 'TENWB1', name: 'one' }]);
      await WriteBehind.insert(m, Tenant, [
        { id: 'TENWB2', name: 'two' },
        { id: 'TENWB3', name: 'three', settings: { fallback_text: 'x' } },
      ]);
      // A row still held takes an update directly; rows already written are updated by key.
      await WriteBehind.update(m, Tenant, 'TENWB1', { name: 'uno' });
      expect(log).toEqual([]);
      const rows = await m.query(`SELECT id, name FROM tenants WHERE id LIKE 'TENWB%' ORDER BY id`);
      await WriteBehind.update(m, Tenant, 'TENWB2', { name: 'dos' });
      await WriteBehind.update(m, Tenant, 'TENWB3', { name: 'tres', settings: { fallback_text: 'y' } });
      await WriteBehind.update(m, Tenant, 'TENWB2', { settings: { fallback_text: 'z' } });
      return rows;
    });
    // Two INSERTs (rows without settings take the column default), the SELECT; then one UPDATE for the two rows
    // that set the same columns, before COMMIT.
    expect(seen).toEqual([
      { id: 'TENWB1', name: 'uno' },
      { id: 'TENWB2', name: 'two' },
      { id: 'TENWB3', name: 'three' },
    ]);
    expect(sent).toEqual(['INSERT INTO "tenants"', 'INSERT INTO "tenants"', 'SELECT id, name', 'UPDATE "tenants" AS', 'COMMIT']);
    expect(await names(t.db, 'TENWB')).toEqual([
      { id: 'TENWB1', name: 'uno', settings: {} },
      { id: 'TENWB2', name: 'dos', settings: { fallback_text: 'z' } },
      { id: 'TENWB3', name: 'tres', settings: { fallback_text: 'y' } },
    ]);
  });

  it('inserts rows after the rows their foreign keys point to, whatever order they were held in', async () => {
    await t.db.transaction(async (m) => {
      WriteBehind.attach(m);
      await WriteBehind.insert(m, ApiKey, [{ id: 'KEYFK1', tenantId: 'TENFK1', name: 'k', keyPrefix: 'tgk_x', keyHash: 'h' }]);
      await WriteBehind.insert(m, Tenant, [{ id: 'TENFK1', name: 'parent' }]);
    });
    expect(await t.db.query(`SELECT id, tenant_id FROM api_keys WHERE id = 'KEYFK1'`)).toEqual([{ id: 'KEYFK1', tenant_id: 'TENFK1' }]);
  });

  it('runs batch statements once for all their rows', async () => {
    const rename: BatchStatement<{ id: string; name: string }> = {
      sql: `UPDATE tenants t SET name = v.name FROM unnest($1::text[], $2::text[]) AS v(id, name) WHERE t.id = v.id`,
      params: (rows) => [rows.map((r) => r.id), rows.map((r) => r.name)],
    };
    await t.db.query(`INSERT INTO tenants (id, name) VALUES ('TENBA1', 'a'), ('TENBA2', 'b')`);
    let sent: string[] = [];
    await t.db.transaction(async (m) => {
      sent = counting(m);
      WriteBehind.attach(m);
      await WriteBehind.batch(m, rename, { id: 'TENBA1', name: 'A' });
      await WriteBehind.batch(m, rename, { id: 'TENBA2', name: 'B' });
    });
    expect(sent).toEqual(['UPDATE tenants t', 'COMMIT']);
    expect((await names(t.db, 'TENBA')).map((r) => r.name)).toEqual(['A', 'B']);
    // Without write-behind, the statement runs at once.
    await t.db.transaction((m) => WriteBehind.batch(m, rename, { id: 'TENBA1', name: 'again' }));
    expect((await names(t.db, 'TENBA')).map((r) => r.name)).toEqual(['again', 'B']);
  });

  it('drops what it holds on rollback, and a held write that fails fails the statement that sends it', async () => {
    await expect(
      t.db.transaction(async (m) => {
        WriteBehind.attach(m);
        await WriteBehind.insert(m, Tenant, [{ id: 'TENRB1', name: 'kept?' }]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await names(t.db, 'TENRB')).toEqual([]);

    await t.db.query(`INSERT INTO tenants (id, name) VALUES ('TENDUP', 'first')`);
    await expect(
      t.db.transaction(async (m) => {
        WriteBehind.attach(m);
        await WriteBehind.insert(m, Tenant, [{ id: 'TENRB2', name: 'fine' }]);
        await WriteBehind.insert(m, Tenant, [{ id: 'TENDUP', name: 'duplicate key' }]);
        await m.query('SELECT 1');
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await names(t.db, 'TENRB')).toEqual([]);
    expect((await names(t.db, 'TENDUP')).map((r) => r.name)).toEqual(['first']);
  });

  it('writes at once when the transaction has no write-behind', async () => {
    await t.db.transaction(async (m) => {
      await WriteBehind.insert(m, Tenant, [{ id: 'TENNOW', name: 'now' }]);
      expect(await m.query(`SELECT name FROM tenants WHERE id = 'TENNOW'`)).toEqual([{ name: 'now' }]);
      await WriteBehind.update(m, Tenant, 'TENNOW', { name: 'then' });
      expect(await m.query(`SELECT name FROM tenants WHERE id = 'TENNOW'`)).toEqual([{ name: 'then' }]);
    });
  });
});
