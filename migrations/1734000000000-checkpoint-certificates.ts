import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each checkpoint keeps the signing certificate it was signed under (base64 DER), so it still verifies after the
 * signing key is rotated: against that certificate, which must be issued by the current chain's CA.
 */
export class CheckpointCertificates1734000000000 implements MigrationInterface {
  name = 'CheckpointCertificates1734000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE evidence_checkpoints ADD COLUMN signing_certificate text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE evidence_checkpoints DROP COLUMN signing_certificate`);
  }
}
