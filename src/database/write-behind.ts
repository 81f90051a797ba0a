import type { EntityManager, EntityMetadata, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';

type Target = EntityTarget<ObjectLiteral>;

/** Per database: each table's foreign-key parents, read once from the catalogue. */
const foreignKeyCache = new WeakMap<object, Promise<Map<string, Set<string>>>>();

function foreignKeys(m: EntityManager): Promise<Map<string, Set<string>>> {
  let known = foreignKeyCache.get(m.connection);
  if (!known) {
    known = m
      .query(
        `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid WHERE k.contype = 'f'`,
      )
      .then((rows: Array<{ child: string; parent: string }>) => {
        const map = new Map<string, Set<string>>();
        for (const { child, parent } of rows) map.set(child, new Set([...(map.get(child) ?? []), parent]));
        return map;
      });
    foreignKeyCache.set(m.connection, known);
    known.catch(() => foreignKeyCache.delete(m.connection));
  }
  return known;
}

/** The properties a row sets (undefined ones take the column's default). */
const definedKeys = (row: ObjectLiteral): string[] =>
  Object.keys(row)
    .filter((k) => row[k] !== undefined)
    .sort();

/** Rows grouped by the properties they set, in the order of their first row. */
function byShape(rows: ReadonlyArray<readonly [ObjectLiteral, string[]]>): Array<[string[], ObjectLiteral[]]> {
  const groups = new Map<string, [string[], ObjectLiteral[]]>();
  for (const [row, keys] of rows) {
    const shape = keys.join(',');
    const group = groups.get(shape);
    if (group) group[1].push(row);
    else groups.set(shape, [keys, [row]]);
  }
  return [...groups.values()];
}

/** A statement that writes any number of rows at once (typically from `unnest` of one array per column). */
export interface BatchStatement<T> {
  sql: string;
  params(rows: T[]): unknown[];
}

/**
 * Write-behind for one transaction. Inserts and updates handed to it are held back and sent as one multi-row
 * statement per table (and per set of updated columns) just before the transaction's next statement, or before its
 * COMMIT. The transaction still reads its own writes, since any statement sends what is held first; what changes is
 * the number of round trips when many writes come in a row, as when the webhook processor applies many users'
 * messages in one transaction. A ROLLBACK drops what is held.
 *
 * The transaction's statements must be issued one after another (no concurrent queries on it), as usual.
 */
export class WriteBehind {
  private inserts = new Map<Target, ObjectLiteral[]>();
  /** target → primary key → properties to set. */
  private updates = new Map<Target, Map<string, ObjectLiteral>>();
  private batches = new Map<BatchStatement<never>, unknown[]>();
  private flushing = false;

  private constructor(private readonly m: EntityManager) {}

  /** Attaches write-behind to the transaction of `m` (once; later calls return the same buffer). */
  static attach(m: EntityManager): WriteBehind {
    const runner = m.queryRunner;
    if (!runner?.isTransactionActive) throw new Error('WriteBehind needs a transaction');
    const existing = WriteBehind.of(m);
    if (existing) return existing;
    const buffer = new WriteBehind(m);
    const query = runner.query.bind(runner) as QueryRunner['query'];
    runner.query = (async (sql: string, parameters?: unknown[], structured?: boolean) => {
      if (/^\s*ROLLBACK/i.test(sql)) buffer.discard();
      else await buffer.flush();
      return query(sql, parameters, structured as never);
    }) as QueryRunner['query'];
    runner.data = { ...runner.data, writeBehind: buffer };
    return buffer;
  }

  static of(m: EntityManager): WriteBehind | undefined {
    return m.queryRunner?.data?.writeBehind as WriteBehind | undefined;
  }

  /**
   * Sends everything held: updates of rows already written first (a process finished before a new one for the same
   * user is inserted, which one-pending-process-per-user requires), then inserts, one statement per table (a table
   * before the tables whose foreign keys point to it, else in the order the tables first appeared), then batch
   * statements in the order they first appeared. So an update must not set a foreign key to a row inserted in the
   * same flush; updates of rows still held for insert are merged into them instead.
   */
  async flush(): Promise<void> {
    if (this.flushing || (this.inserts.size === 0 && this.updates.size === 0 && this.batches.size === 0)) return;
    const { inserts, updates, batches } = this;
    this.inserts = new Map();
    this.updates = new Map();
    this.batches = new Map();
    this.flushing = true;
    try {
      for (const [target, byId] of updates) await this.writeUpdates(target, byId);
      for (const [target, rows] of await this.parentsFirst(inserts)) await this.writeInserts(target, rows);
      for (const [statement, rows] of batches) await this.m.query(statement.sql, statement.params(rows as never[]));
    } finally {
      this.flushing = false;
    }
  }

  private discard(): void {
    this.inserts.clear();
    this.updates.clear();
    this.batches.clear();
  }

  private insert(target: Target, rows: ObjectLiteral[]): void {
    const held = this.inserts.get(target);
    if (held) held.push(...rows);
    else this.inserts.set(target, [...rows]);
  }

  private update(target: Target, id: string, given: ObjectLiteral): void {
    // An undefined property changes nothing (as in TypeORM's update).
    let patch: ObjectLiteral | null = null;
    for (const k of Object.keys(given)) if (given[k] !== undefined) (patch ??= {})[k] = given[k];
    if (!patch) return;
    // A row still waiting to be inserted takes the change directly (usually one just held: search from the end).
    const key = this.primaryProperty(target);
    const pending = this.inserts.get(target)?.findLast((row) => row[key] === id);
    if (pending) {
      Object.assign(pending, patch);
      return;
    }
    let byId = this.updates.get(target);
    if (!byId) this.updates.set(target, (byId = new Map()));
    const held = byId.get(id);
    if (held) Object.assign(held, patch);
    else byId.set(id, patch);
  }

  /**
   * One `INSERT … SELECT FROM unnest(…)` per set of given columns: one bind parameter per column whatever the number
   * of rows (TypeORM's multi-row VALUES costs one per value, and much CPU to build).
   */
  private async writeInserts(target: Target, rows: ObjectLiteral[]): Promise<void> {
    const meta = this.m.connection.getMetadata(target);
    for (const [properties, group] of byShape(rows.map((row) => [row, definedKeys(row)] as const))) {
      const { columns, arrays } = this.columnArrays(meta, properties, group);
      const names = columns.map((c) => `"${c.databaseName}"`).join(', ');
      await this.m.query(`INSERT INTO "${meta.tableName}" (${names}) SELECT * FROM unnest(${arrays.types}) AS v(${names})`, arrays.params);
    }
  }

  /** The held inserts ordered so that rows are inserted after the rows their foreign keys point to. */
  private async parentsFirst(inserts: Map<Target, ObjectLiteral[]>): Promise<Array<[Target, ObjectLiteral[]]>> {
    const entries = [...inserts];
    if (entries.length < 2) return entries;
    const parents = await foreignKeys(this.m);
    const table = (target: Target) => this.m.connection.getMetadata(target).tableName;
    const ordered: Array<[Target, ObjectLiteral[]]> = [];
    const visit = (entry: [Target, ObjectLiteral[]], path: Set<string>) => {
      const name = table(entry[0]);
      if (ordered.includes(entry) || path.has(name)) return;
      path.add(name);
      for (const other of entries) if (other !== entry && parents.get(name)?.has(table(other[0]))) visit(other, path);
      ordered.push(entry);
    };
    for (const entry of entries) visit(entry, new Set());
    return ordered;
  }

  /** One `UPDATE … FROM unnest(…)` per set of updated columns. */
  private async writeUpdates(target: Target, byId: Map<string, ObjectLiteral>): Promise<void> {
    const meta = this.m.connection.getMetadata(target);
    const key = meta.primaryColumns[0].propertyName;
    const rows = [...byId].map(([id, patch]) => ({ ...patch, [key]: id }));
    for (const [properties, group] of byShape(rows.map((row) => [row, [key, ...definedKeys(row).filter((p) => p !== key)]] as const))) {
      const { columns, arrays } = this.columnArrays(meta, properties, group);
      const names = columns.map((c) => `"${c.databaseName}"`);
      await this.m.query(
        `UPDATE "${meta.tableName}" AS t SET ${names
          .slice(1)
          .map((n) => `${n} = v.${n}`)
          .join(', ')}
           FROM unnest(${arrays.types}) AS v(${names.join(', ')}) WHERE t.${names[0]} = v.${names[0]}`,
        arrays.params,
      );
    }
  }

  /** The columns of `properties`, and one typed array parameter per column holding the rows' values. */
  private columnArrays(meta: EntityMetadata, properties: string[], rows: ObjectLiteral[]) {
    const driver = this.m.connection.driver;
    const columns = properties.map((property) => {
      const column = meta.findColumnWithPropertyName(property);
      if (!column) throw new Error(`${meta.name} has no column ${property}`);
      return column;
    });
    return {
      columns,
      arrays: {
        types: columns.map((column, i) => `$${i + 1}::${driver.normalizeType(column)}[]`).join(', '),
        params: columns.map((column) => rows.map((row) => driver.preparePersistentValue(row[column.propertyName], column) as unknown)),
      },
    };
  }

  /** Each table's primary key property, looked up once per transaction (TypeORM's lookup searches every entity). */
  private readonly primaryProperties = new Map<Target, string>();

  private primaryProperty(target: Target): string {
    let key = this.primaryProperties.get(target);
    if (!key) this.primaryProperties.set(target, (key = this.m.connection.getMetadata(target).primaryColumns[0].propertyName));
    return key;
  }

  /** Inserts rows now, or with the transaction's next statement when it has write-behind. */
  static async insert(m: EntityManager, target: Target, rows: ObjectLiteral[]): Promise<void> {
    if (rows.length === 0) return;
    const buffer = WriteBehind.of(m);
    if (buffer) return buffer.insert(target, rows);
    for (let i = 0; i < rows.length; i += 1000) await m.insert(target, rows.slice(i, i + 1000));
  }

  /** Runs `statement` for `row` now, or for all the rows held for it with the transaction's next statement. */
  static async batch<T>(m: EntityManager, statement: BatchStatement<T>, row: T): Promise<void> {
    const buffer = WriteBehind.of(m);
    if (!buffer) {
      await m.query(statement.sql, statement.params([row]));
      return;
    }
    const held = buffer.batches.get(statement as BatchStatement<never>);
    if (held) held.push(row);
    else buffer.batches.set(statement as BatchStatement<never>, [row]);
  }

  /** Updates one row by primary key now, or with the transaction's next statement when it has write-behind. */
  static async update(m: EntityManager, target: Target, id: string, patch: ObjectLiteral): Promise<void> {
    const buffer = WriteBehind.of(m);
    if (buffer) return buffer.update(target, id, patch);
    await m.update(target, id, patch);
  }
}
