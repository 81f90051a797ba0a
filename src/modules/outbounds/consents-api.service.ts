import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { toE164 } from '../../common/phone/phone.js';
import { ConsentsService } from './consents.service.js';
import { ConsentDto, type ConsentListDto, type CreateConsentDto, type CreateConsentResponseDto, type ListConsentsQueryDto } from './dto/consent.dto.js';

/** Clocks differ a little between the client and us; a given_at further in the future is refused. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** The /v1/whatsapp/consents API over ConsentsService. */
@Injectable()
export class ConsentsApiService {
  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly consents: ConsentsService,
  ) {}

  async create(t: TenantContext, dto: CreateConsentDto): Promise<CreateConsentResponseDto> {
    const phone = toE164(dto.phone)!;
    const givenAt = new Date(dto.given_at);
    if (Number.isNaN(givenAt.getTime())) throw AppError.validation('given_at', 'given_at must be a valid date');
    if (givenAt.getTime() > this.clock.now().getTime() + FUTURE_TOLERANCE_MS) throw AppError.validation('given_at', 'given_at may not be in the future');
    return this.ds.transaction(async (m) => {
      const consent = await this.consents.record(m, {
        tenantId: t.tenantId,
        phone,
        kind: 'opt_in',
        source: dto.source,
        occurredAt: givenAt,
        apiKeyId: t.apiKeyId,
        evidence: dto.evidence ?? null,
        liftsOptOut: true,
      });
      const state = await this.consents.state(t.tenantId, phone, m);
      return { phone, opted_out: state.optedOut, opted_out_at: state.optedOutAt?.toISOString() ?? null, consent: ConsentDto.from(consent) };
    });
  }

  async list(tenantId: string, q: ListConsentsQueryDto): Promise<ConsentListDto> {
    const phone = toE164(q.phone)!;
    const [state, page] = await Promise.all([this.consents.state(tenantId, phone), this.consents.list(tenantId, phone, q)]);
    return {
      phone,
      opted_out: state.optedOut,
      opted_out_at: state.optedOutAt?.toISOString() ?? null,
      data: page.items.map(ConsentDto.from),
      next_cursor: page.next_cursor,
    };
  }
}
