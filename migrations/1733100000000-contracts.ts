import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Certified contracting: the contract of a process (the document sent at a `document` step, and the signed copy the
 * `signature` step made of it), the one-time code of an `otp` step (only an HMAC of it; the code itself sealed until
 * it is handed to the provider), and the document a flow invitation carries.
 */
export class Contracts1733100000000 implements MigrationInterface {
  name = 'Contracts1733100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE contracts (
        process_id text NOT NULL,
        step_id text NOT NULL,
        tenant_id text NOT NULL,
        original_document_id text NOT NULL,
        original_sha256 text NOT NULL,
        signer_name text,
        confirmed_at timestamptz,
        signing_state text NOT NULL DEFAULT 'none' CHECK (signing_state IN ('none', 'signing', 'signed', 'failed')),
        signing_error text,
        signed_document_id text,
        signed_sha256 text,
        signature_level text,
        signed_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (process_id, step_id)
      )`);
    await q.query(`
      CREATE TABLE otp_challenges (
        process_id text NOT NULL,
        step_id text NOT NULL,
        tenant_id text NOT NULL,
        channel text NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
        generation int NOT NULL,
        code_hmac text NOT NULL,
        code_sealed text,
        status text NOT NULL CHECK (status IN ('sending', 'sent', 'verified', 'failed', 'undeliverable')),
        sent_at timestamptz,
        expires_at timestamptz NOT NULL,
        verified_at timestamptz,
        attempts int NOT NULL DEFAULT 0,
        resends int NOT NULL DEFAULT 0,
        delivery_error text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (process_id, step_id)
      )`);
    await q.query(`ALTER TABLE outbound_sends ADD COLUMN document_id text, ADD COLUMN signer_name text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbound_sends DROP COLUMN document_id, DROP COLUMN signer_name`);
    await q.query(`DROP TABLE otp_challenges`);
    await q.query(`DROP TABLE contracts`);
  }
}
