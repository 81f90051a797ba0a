import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { LookupCache } from '../../common/cache/lookup-cache.js';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { digits } from '../../common/phone/phone.js';
import { uniqueViolation } from '../../database/pg-errors.js';
import { FlowsService } from '../flows/flows.service.js';
import { LinesService } from '../tenants/lines.service.js';
import { CreateInboundDto, InboundDto, ListInboundsQueryDto } from './dto/inbound.dto.js';
import { Inbound } from './inbound.entity.js';
import { InboundErrorCode } from './inbounds.errors.js';
import { foldText } from '../../common/text/fold.js';

@Injectable()
export class InboundsService {
  /** Each line's inbounds by match key, for every message that may start a flow (cached: LOOKUP_TTL_MS). */
  private readonly byLine = new LookupCache<Map<string, Inbound>>('inbounds');

  constructor(
    @InjectRepository(Inbound) private readonly inbounds: Repository<Inbound>,
    private readonly lines: LinesService,
    private readonly flows: FlowsService,
    private readonly clock: Clock,
  ) {}

  async create(tenantId: string, dto: CreateInboundDto): Promise<InboundDto> {
    const line = await this.lines.getByPhone(tenantId, dto.waba_phone_number);
    await this.flowOf(tenantId, dto.flow_id);
    const key = foldText(dto.inbound_message);
    if (!key) throw AppError.validation('inbound_message', 'inbound_message must contain text');
    const inbound = this.inbounds.create({
      id: newId('INB'),
      tenantId,
      lineId: line.id,
      flowId: dto.flow_id,
      inboundMessage: dto.inbound_message.replace(/\s+/g, ' '),
      matchKey: key,
      createdAt: this.clock.now(),
    });
    try {
      await this.inbounds.insert(inbound);
    } catch (err) {
      if (uniqueViolation(err) === 'inbounds_match_uq') {
        throw new AppError(HttpStatus.CONFLICT, InboundErrorCode.INBOUND_MESSAGE_TAKEN, 'Another inbound of this line already starts with this message', [
          { field: 'inbound_message', messages: ['inbound_message is already used on this line (case, accents and spaces are ignored)'] },
        ]);
      }
      throw err;
    }
    this.byLine.clear();
    return this.toDto(inbound, line.phoneNumber);
  }

  async get(tenantId: string, id: string): Promise<InboundDto> {
    const inbound = await this.inbounds.findOneBy({ id, tenantId });
    if (!inbound) throw AppError.notFound('Inbound', id);
    const line = await this.lines.get(tenantId, inbound.lineId).catch(() => null);
    return this.toDto(inbound, line?.phoneNumber ?? '');
  }

  async list(tenantId: string, q: ListInboundsQueryDto): Promise<{ data: InboundDto[]; next_cursor: string | null }> {
    const qb = this.inbounds.createQueryBuilder('i').where('i.tenant_id = :tenantId', { tenantId });
    if (q.waba_phone_number) qb.andWhere('i.line_id = :lineId', { lineId: (await this.lines.getByPhone(tenantId, q.waba_phone_number)).id });
    if (q.flow_id) qb.andWhere('i.flow_id = :flowId', { flowId: q.flow_id });
    const { items, next_cursor } = await paginate(qb, q);
    const phones = new Map<string, string>();
    for (const i of items) if (!phones.has(i.lineId)) phones.set(i.lineId, (await this.lines.get(tenantId, i.lineId).catch(() => null))?.phoneNumber ?? '');
    return { data: items.map((i) => this.toDto(i, phones.get(i.lineId)!)), next_cursor };
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const inbound = await this.inbounds.findOneBy({ id, tenantId });
    if (!inbound) throw AppError.notFound('Inbound', id);
    await this.inbounds.softDelete({ id });
    this.byLine.clear();
  }

  /** The inbound of this line whose message matches `text`, if any. */
  async match(lineId: string, text: string): Promise<Inbound | null> {
    const byKey = await this.byLine.get(lineId, async () => new Map((await this.inbounds.findBy({ lineId })).map((i) => [i.matchKey, i])));
    return byKey.get(foldText(text)) ?? null;
  }

  private async flowOf(tenantId: string, flowId: string): Promise<void> {
    try {
      await this.flows.assertStartable(tenantId, flowId);
    } catch (err) {
      if (err instanceof AppError && err.status === HttpStatus.NOT_FOUND) throw AppError.validation('flow_id', 'flow_id must be one of your flows');
      throw err;
    }
  }

  private toDto(i: Inbound, linePhone: string): InboundDto {
    return {
      inbound_id: i.id,
      waba_phone_number: linePhone,
      flow_id: i.flowId,
      inbound_message: i.inboundMessage,
      link: `https://wa.me/${digits(linePhone)}?text=${encodeURIComponent(i.inboundMessage)}`,
      created_at: i.createdAt.toISOString(),
    };
  }
}
