import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rate limits shared by every instance: one token bucket per key (API key or client address), UNLOGGED because a
 * crash that empties it only hands out one burst again, and it is written on every limited request. Tenants can get
 * their own API-key limit.
 */
export class RateLimits1732380000000 implements MigrationInterface {
  name = 'RateLimits1732380000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNLOGGED TABLE rate_buckets (
      key text PRIMARY KEY,
      tokens double precision NOT NULL,
      allowed boolean NOT NULL,
      updated_at timestamptz NOT NULL
    )`);
    await q.query(`ALTER TABLE tenants ADD COLUMN rate_limit_per_second int, ADD COLUMN rate_limit_burst int`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants DROP COLUMN rate_limit_per_second, DROP COLUMN rate_limit_burst`);
    await q.query(`DROP TABLE rate_buckets`);
  }
}
