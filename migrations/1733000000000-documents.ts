import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Contract documents: PDFs a tenant uploads and the copies the service derives from them (a signed copy). A row is
 * never changed; its bytes are a stored file (media_files, FileStore). A derived copy is unique per (tenant, source,
 * sha256), so a retried store after a crash finds the row it made.
 */
export class Documents1733000000000 implements MigrationInterface {
  name = 'Documents1733000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE documents (
        id text PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        title text NOT NULL,
        filename text NOT NULL,
        sha256 text NOT NULL,
        pages int NOT NULL,
        size_bytes int NOT NULL,
        file_id text NOT NULL,
        derived_from text REFERENCES documents(id),
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX documents_tenant_idx ON documents (tenant_id, id)`);
    await q.query(`CREATE INDEX documents_tenant_sha_idx ON documents (tenant_id, sha256)`);
    await q.query(`CREATE UNIQUE INDEX documents_derived_idx ON documents (tenant_id, derived_from, sha256) WHERE derived_from IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE documents`);
  }
}
