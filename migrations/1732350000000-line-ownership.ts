import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Only Cloud API lines, whose number and phone_number_id are proven with the Graph API at registration, claim them
 * across tenants. Sandbox and BSP lines prove nothing, so their numbers are unique within their tenant only.
 */
export class LineOwnership1732350000000 implements MigrationInterface {
  name = 'LineOwnership1732350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX whatsapp_lines_phone_uq`);
    await q.query(`DROP INDEX whatsapp_lines_pnid_uq`);
    await q.query(`CREATE UNIQUE INDEX whatsapp_lines_phone_uq ON whatsapp_lines (phone_number) WHERE deleted_at IS NULL AND provider = 'cloud_api'`);
    await q.query(`CREATE UNIQUE INDEX whatsapp_lines_tenant_phone_uq ON whatsapp_lines (tenant_id, phone_number) WHERE deleted_at IS NULL`);
    await q.query(
      `CREATE UNIQUE INDEX whatsapp_lines_pnid_uq ON whatsapp_lines (phone_number_id) WHERE deleted_at IS NULL AND provider = 'cloud_api' AND phone_number_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX whatsapp_lines_pnid_uq`);
    await q.query(`DROP INDEX whatsapp_lines_tenant_phone_uq`);
    await q.query(`DROP INDEX whatsapp_lines_phone_uq`);
    await q.query(`CREATE UNIQUE INDEX whatsapp_lines_phone_uq ON whatsapp_lines (phone_number) WHERE deleted_at IS NULL`);
    await q.query(`CREATE UNIQUE INDEX whatsapp_lines_pnid_uq ON whatsapp_lines (phone_number_id) WHERE deleted_at IS NULL AND phone_number_id IS NOT NULL`);
  }
}
