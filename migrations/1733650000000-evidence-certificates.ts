import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The certificate of evidence of each finished process (made by a job, sealed, kept in the file store), and the
 * digests that let a PDF handed in for verification be matched to what was issued here: the whole file's SHA-256
 * and the SHA-256 its signature covers (which a changed byte outside the signature does not move).
 */
export class EvidenceCertificates1733650000000 implements MigrationInterface {
  name = 'EvidenceCertificates1733650000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE evidence_certificates (
        process_id text PRIMARY KEY,
        tenant_id text NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'ready', 'failed', 'purged')),
        file_key text,
        sha256 text,
        content_sha256 text,
        size_bytes int,
        level text,
        chain_seq int,
        issued_at timestamptz,
        error text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX evidence_certificates_sha256 ON evidence_certificates (sha256) WHERE sha256 IS NOT NULL`);
    await q.query(`CREATE INDEX evidence_certificates_content_sha256 ON evidence_certificates (content_sha256) WHERE content_sha256 IS NOT NULL`);
    await q.query(`ALTER TABLE contracts ADD COLUMN signed_content_sha256 text`);
    await q.query(`CREATE INDEX contracts_signed_sha256 ON contracts (signed_sha256) WHERE signed_sha256 IS NOT NULL`);
    await q.query(`CREATE INDEX contracts_signed_content_sha256 ON contracts (signed_content_sha256) WHERE signed_content_sha256 IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX contracts_signed_content_sha256`);
    await q.query(`DROP INDEX contracts_signed_sha256`);
    await q.query(`ALTER TABLE contracts DROP COLUMN signed_content_sha256`);
    await q.query(`DROP TABLE evidence_certificates`);
  }
}
