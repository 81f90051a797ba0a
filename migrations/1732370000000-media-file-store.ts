import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * File bytes move to the FileStore: `storage_key` names them there (their SHA-256) and `data` stays NULL for new
 * files. Rows stored before keep their bytes in `data` and are served from it, so this migration needs no store.
 * Files the service itself stores (documents it sends) have no message, line or provider id; `filename` is kept for
 * downloads.
 */
export class MediaFileStore1732370000000 implements MigrationInterface {
  name = 'MediaFileStore1732370000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE media_files ADD COLUMN storage_key text, ADD COLUMN filename text`);
    await q.query(`ALTER TABLE media_files ALTER COLUMN message_id DROP NOT NULL, ALTER COLUMN line_id DROP NOT NULL, ALTER COLUMN provider_media_id DROP NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM media_files WHERE message_id IS NULL`);
    await q.query(`ALTER TABLE media_files ALTER COLUMN message_id SET NOT NULL, ALTER COLUMN line_id SET NOT NULL, ALTER COLUMN provider_media_id SET NOT NULL`);
    await q.query(`ALTER TABLE media_files DROP COLUMN filename, DROP COLUMN storage_key`);
  }
}
