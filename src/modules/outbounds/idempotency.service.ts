import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { OutboundErrorCode } from './outbounds.errors.js';
import { idempotencyKeyReused } from './outbounds.errors.js';

/** Canonical JSON (sorted keys) so a JSON body and the same form body hash alike. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const requestHash = (scope: string, body: unknown) => createHash('sha256').update(scope).update('\0').update(canonical(body)).digest('hex');

interface Stored {
  request_hash: string;
  status_code: number;
  response: unknown;
}

/**
 * `Idempotency-Key` for API POSTs: the key, tenant and a hash of the request are stored with the first successful
 * answer, in the transaction that does the work. A retry with the same key and body gets that answer; with another
 * body, 422 IDEMPOTENCY_KEY_REUSED. Failed requests store nothing (their transaction rolls back), so they can be retried.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
  ) {}

  static validKey(key: unknown): key is string {
    return typeof key === 'string' && key.length >= 1 && key.length <= 255;
  }

  /** The stored answer for this key, if any; throws when the key was used for another request. */
  async replay<T>(tenantId: string, key: string, hash: string): Promise<T | null> {
    const [row]: Stored[] = await this.ds.query(`SELECT request_hash, status_code, response FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`, [tenantId, key]);
    if (!row) return null;
    if (row.request_hash !== hash) throw idempotencyKeyReused();
    return row.response as T;
  }

  /**
   * Claims the key inside the working transaction. When a concurrent request holding the same key committed first,
   * throws `IdempotencyConflict` (the caller rolls back and replays).
   */
  async claim(manager: EntityManager, tenantId: string, key: string, scope: string, hash: string, statusCode: number, response: unknown): Promise<void> {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO idempotency_keys (tenant_id, key, scope, request_hash, status_code, response, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, key) DO NOTHING RETURNING key`,
      [tenantId, key, scope, hash, statusCode, JSON.stringify(response), this.clock.now()],
    );
    if (inserted.length === 0) throw new IdempotencyConflict();
  }
}

export class IdempotencyConflict extends AppError {
  constructor() {
    super(409, OutboundErrorCode.IDEMPOTENCY_CONFLICT, 'A concurrent request with the same Idempotency-Key finished first');
  }
}
