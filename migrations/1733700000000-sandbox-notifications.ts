import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Live sandbox conversations: a message recorded or updated on a sandbox line, and an SMS the sandbox SMS provider
 * "sent", are announced on the `testigo_sandbox` channel (pg_notify, delivered at commit to every process), where the
 * console's event stream listens. Statement-level triggers: one query per statement, whatever the number of rows, and
 * nothing is announced for real lines (no NOTIFY, whose commit-time lock is shared by the whole database, on the hot
 * path).
 */
export class SandboxNotifications1733700000000 implements MigrationInterface {
  name = 'SandboxNotifications1733700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION sandbox_messages_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('testigo_sandbox', json_build_object('kind', 'message', 'tenant_id', n.tenant_id, 'line_id', n.line_id, 'phone', n.phone, 'id', n.id)::text)
          FROM changed_messages n JOIN whatsapp_lines l ON l.id = n.line_id
         WHERE l.provider = 'sandbox';
        RETURN NULL;
      END $$`);
    await q.query(`DROP TRIGGER IF EXISTS sandbox_messages_inserted ON messages`);
    await q.query(`DROP TRIGGER IF EXISTS sandbox_messages_updated ON messages`);
    await q.query(
      `CREATE TRIGGER sandbox_messages_inserted AFTER INSERT ON messages REFERENCING NEW TABLE AS changed_messages FOR EACH STATEMENT EXECUTE FUNCTION sandbox_messages_notify()`,
    );
    await q.query(
      `CREATE TRIGGER sandbox_messages_updated AFTER UPDATE ON messages REFERENCING NEW TABLE AS changed_messages FOR EACH STATEMENT EXECUTE FUNCTION sandbox_messages_notify()`,
    );
    await q.query(`
      CREATE OR REPLACE FUNCTION sandbox_sms_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('testigo_sandbox', json_build_object('kind', 'sms', 'tenant_id', n.tenant_id, 'phone', n.phone, 'id', n.id)::text) FROM new_sms n;
        RETURN NULL;
      END $$`);
    await q.query(`DROP TRIGGER IF EXISTS sandbox_sms_inserted ON sandbox_sms`);
    await q.query(`CREATE TRIGGER sandbox_sms_inserted AFTER INSERT ON sandbox_sms REFERENCING NEW TABLE AS new_sms FOR EACH STATEMENT EXECUTE FUNCTION sandbox_sms_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS sandbox_messages_inserted ON messages`);
    await q.query(`DROP TRIGGER IF EXISTS sandbox_messages_updated ON messages`);
    await q.query(`DROP TRIGGER IF EXISTS sandbox_sms_inserted ON sandbox_sms`);
    await q.query(`DROP FUNCTION IF EXISTS sandbox_messages_notify()`);
    await q.query(`DROP FUNCTION IF EXISTS sandbox_sms_notify()`);
  }
}
