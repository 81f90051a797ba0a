import type { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys gain an optional expiry, scopes (existing keys keep read and write) and when and from where last used. */
export class ApiKeyScopes1732375000000 implements MigrationInterface {
  name = 'ApiKeyScopes1732375000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN expires_at timestamptz, ADD COLUMN scopes text[] NOT NULL DEFAULT '{read,write}',
                   ADD COLUMN last_used_at timestamptz, ADD COLUMN last_used_ip text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys DROP COLUMN expires_at, DROP COLUMN scopes, DROP COLUMN last_used_at, DROP COLUMN last_used_ip`);
  }
}
