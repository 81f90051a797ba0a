import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AUTHENTICATION templates with a copy-code button: their options (Meta fixes their text), and at most one per line
 * and language, so concurrent first uses end with one template that everybody reuses.
 */
export class AuthenticationTemplates1733020000000 implements MigrationInterface {
  name = 'AuthenticationTemplates1733020000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE templates ADD COLUMN authentication jsonb`);
    await q.query(`ALTER TABLE templates ADD CONSTRAINT templates_authentication_category CHECK (authentication IS NULL OR category = 'AUTHENTICATION')`);
    await q.query(`CREATE UNIQUE INDEX templates_authentication_line_language_uidx ON templates (line_id, language) WHERE authentication IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX templates_authentication_line_language_uidx`);
    await q.query(`ALTER TABLE templates DROP CONSTRAINT templates_authentication_category`);
    await q.query(`ALTER TABLE templates DROP COLUMN authentication`);
  }
}
