import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Provider message ids are unique per line, not globally: an id is only vouched for by the line (and provider account)
 * that reported it, so one tenant's line can neither claim another line's wamid (inbound dedupe) nor reach its
 * messages (statuses). Rows that were globally unique are unique per line, so existing data stays valid.
 */
export class LineProviderIds1732340000000 implements MigrationInterface {
  name = 'LineProviderIds1732340000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNIQUE INDEX messages_line_provider_id_uq ON messages (line_id, provider_message_id) WHERE provider_message_id IS NOT NULL`);
    await q.query(`DROP INDEX messages_provider_id_uq`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Fails if two lines now hold the same id: which message keeps it is not for a migration to decide.
    await q.query(`CREATE UNIQUE INDEX messages_provider_id_uq ON messages (provider_message_id) WHERE provider_message_id IS NOT NULL`);
    await q.query(`DROP INDEX messages_line_provider_id_uq`);
  }
}
