import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { IsNull, Repository } from 'typeorm';
import { ApiKeyResolver, TenantContext } from '../../common/auth/api-key-resolver.js';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { ApiKey } from './entities/api-key.entity.js';

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

@Injectable()
export class ApiKeysService extends ApiKeyResolver {
  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    private readonly clock: Clock,
  ) {
    super();
  }

  /** A new key: 256 random bits. The plaintext is returned once and only its hash is kept. */
  async create(tenantId: string, name = 'default'): Promise<{ key: ApiKey; plaintext: string }> {
    const plaintext = 'tgk_' + randomBytes(32).toString('base64url');
    const key = this.keys.create({
      id: newId('KEY'),
      tenantId,
      name,
      keyPrefix: plaintext.slice(0, 10),
      keyHash: hashKey(plaintext),
      revokedAt: null,
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

  async resolve(plaintext: string): Promise<TenantContext | null> {
    const key = await this.keys.findOne({
      select: { id: true, tenantId: true },
      where: { keyHash: hashKey(plaintext), revokedAt: IsNull() },
    });
    return key ? { tenantId: key.tenantId, apiKeyId: key.id } : null;
  }

  private async getOne(tenantId: string, id: string): Promise<ApiKey> {
    const key = await this.keys.findOneBy({ id, tenantId });
    if (!key) throw AppError.notFound('API key', id);
    return key;
  }
}
