import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { AuditLogEntry } from './audit-log.entity.js';
import type { AdminListAuditLogQueryDto } from './dto/audit-log.dto.js';

export type AuditRecord = Omit<AuditLogEntry, 'id' | 'occurredAt'>;

@Injectable()
export class AuditLogService {
  constructor(
    @InjectRepository(AuditLogEntry) private readonly entries: Repository<AuditLogEntry>,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditRecord): Promise<void> {
    await this.entries.insert({ ...entry, id: newId('AUD'), occurredAt: this.clock.now() });
  }

  /** Newest first; `tenantId` undefined lists every tenant's (the admin log, unless it filters by tenant_id). */
  list(tenantId: string | undefined, q: AdminListAuditLogQueryDto) {
    const qb = this.entries.createQueryBuilder('a');
    if (tenantId !== undefined) qb.andWhere('a.tenant_id = :tenantId', { tenantId });
    if (q.resource_type) qb.andWhere('a.resource_type = :type', { type: q.resource_type });
    if (q.resource_id) qb.andWhere('a.resource_id = :rid', { rid: q.resource_id });
    if (q.from) qb.andWhere('a.occurred_at >= :from', { from: new Date(q.from) });
    if (q.to) qb.andWhere('a.occurred_at < :to', { to: new Date(q.to) });
    return paginate(qb, q);
  }
}
