import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { IsNull, Repository } from 'typeorm';
import { Logger } from '@nestjs/common';
import { ApiKeyResolver, type ApiKeyScope, ResolvedKey } from '../../common/auth/api-key-resolver.js';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { ApiKey } from './entities/api-key.entity.js';

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** A key's last use is written at most this often per key and process: never a write per request. */
export const LAST_USED_EVERY_MS = 60_000;

@Injectable()
export class ApiKeysService extends ApiKeyResolver {
  private readonly logger = new Logger(ApiKeysService.name);
  /** When each key's last use was last written from here. Bounded by the number of live keys. */
  private readonly lastWritten = new Map<string, number>();

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    private readonly clock: Clock,
  ) {
    super();
  }

  /** A new key: 256 random bits. The plaintext is returned once and only its hash is kept. */
  async create(tenantId: string, name = 'default', options: { scopes?: ApiKeyScope[]; expiresAt?: Date | null } = {}): Promise<{ key: ApiKey; plaintext: string }> {
    if (options.expiresAt && options.expiresAt <= this.clock.now()) throw AppError.validation('expires_at', 'expires_at must be in the future');
    const plaintext = 'tgk_' + randomBytes(32).toString('base64url');
    const key = this.keys.create({
      id: newId('KEY'),
      tenantId,
      name,
      keyPrefix: plaintext.slice(0, 10),
      keyHash: hashKey(plaintext),
      revokedAt: null,
      scopes: [...new Set<ApiKeyScope>(options.scopes ?? ['read', 'write'])],
      expiresAt: options.expiresAt ?? null,
    });
    await this.keys.insert(key);
    return { key: await this.getOne(tenantId, key.id), plaintext };
  }

  list(tenantId: string, page: PageQueryDto) {
    return paginate(this.keys.createQueryBuilder('k').where('k.tenant_id = :tenantId', { tenantId }), page);
  }

  async revoke(tenantId: string, keyId: string): Promise<ApiKey> {
    await this.keys.update({ id: keyId, tenantId, revokedAt: IsNull() }, { revokedAt: this.clock.now() });
    return this.getOne(tenantId, keyId);
  }

  /** With the tenant's own rate limit, in the same query: authentication stays one read per request. */
  async resolve(plaintext: string): Promise<ResolvedKey | null> {
    const [row]: Array<{ id: string; tenant_id: string; scopes: ApiKeyScope[]; expires_at: Date | null; per_second: number | null; burst: number | null }> = await this.keys.query(
      `SELECT k.id, k.tenant_id, k.scopes, k.expires_at, t.rate_limit_per_second AS per_second, t.rate_limit_burst AS burst
           FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
          WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
      [hashKey(plaintext)],
    );
    if (!row) return null;
    return {
      tenantId: row.tenant_id,
      apiKeyId: row.id,
      scopes: row.scopes,
      expiresAt: row.expires_at,
      rateLimit: row.per_second || row.burst ? { perSecond: row.per_second ?? undefined, burst: row.burst ?? undefined } : null,
    };
  }

  /**
   * Records the key's last use, at most once per LAST_USED_EVERY_MS per key in this process, after the answer (not
   * awaited): the listing lags by up to that long, and a request adds no write.
   */
  touch(apiKeyId: string, ip: string | undefined): void {
    const now = this.clock.now();
    const last = this.lastWritten.get(apiKeyId);
    if (last !== undefined && now.getTime() - last < LAST_USED_EVERY_MS) return;
    this.lastWritten.set(apiKeyId, now.getTime());
    this.keys.update({ id: apiKeyId }, { lastUsedAt: now, lastUsedIp: ip ?? null }).catch((err: unknown) => {
      this.lastWritten.delete(apiKeyId);
      this.logger.warn({ err }, 'could not record an API key use');
    });
  }

  private async getOne(tenantId: string, id: string): Promise<ApiKey> {
    const key = await this.keys.findOneBy({ id, tenantId });
    if (!key) throw AppError.notFound('API key', id);
    return key;
  }
}
