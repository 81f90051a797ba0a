import { BatchStatement, WriteBehind } from '../../database/write-behind.js';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { DEFAULT_KEYWORDS } from '../tenants/entities/tenant.entity.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { Consent, type ConsentKind } from './entities/consent.entity.js';
import { normaliseKeyword } from './outbound-content.js';

export interface ConsentInput {
  tenantId: string;
  /** E.164. */
  phone: string;
  kind: ConsentKind;
  source: string;
  occurredAt: Date;
  apiKeyId?: string | null;
  lineId?: string | null;
  evidence?: string | null;
  /** Opt-ins only: whether it lifts an earlier opt-out. */
  liftsOptOut?: boolean;
}

export interface ConsentState {
  optedOut: boolean;
  optedOutAt: Date | null;
}

/**
 * Opt-ins and opt-outs per tenant and user. Every event is kept (`consents`); `consent_states` holds the latest
 * opt-out and the latest lifting opt-in, so the current state is one row whatever order the events arrive in:
 * opted out while the opt-out is at least as new as the last lift (a tie stays opted out).
 */
/** Moves each user's latest opt-out (or lift) forward; never back, whatever order the events come in. */
const moveState = (column: 'last_opt_out_at' | 'last_lift_at'): BatchStatement<{ tenantId: string; phone: string; at: Date }> => ({
  sql: `INSERT INTO consent_states (tenant_id, phone, ${column})
        SELECT tenant_id, phone, max(at) FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS s(tenant_id, phone, at)
         GROUP BY tenant_id, phone ORDER BY tenant_id, phone
        ON CONFLICT (tenant_id, phone) DO UPDATE SET ${column} = GREATEST(consent_states.${column}, EXCLUDED.${column})`,
  params: (rows) => [rows.map((r) => r.tenantId), rows.map((r) => r.phone), rows.map((r) => r.at)],
});
const MOVE_OPT_OUT = moveState('last_opt_out_at');
const MOVE_LIFT = moveState('last_lift_at');

@Injectable()
export class ConsentsService {

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly tenants: TenantsService,
  ) {}

  async record(manager: EntityManager, input: ConsentInput): Promise<Consent> {
    const lifts = input.kind === 'opt_in' && (input.liftsOptOut ?? false);
    const consent = manager.create(Consent, {
      id: newId('CNS'),
      tenantId: input.tenantId,
      phone: input.phone,
      kind: input.kind,
      source: input.source,
      occurredAt: input.occurredAt,
      recordedAt: this.clock.now(),
      apiKeyId: input.apiKeyId ?? null,
      lineId: input.lineId ?? null,
      evidence: input.evidence ?? null,
      liftsOptOut: lifts,
    });
    await WriteBehind.insert(manager, Consent, [consent]);
    if (input.kind === 'opt_out' || lifts) {
      await WriteBehind.batch(manager, input.kind === 'opt_out' ? MOVE_OPT_OUT : MOVE_LIFT, { tenantId: input.tenantId, phone: input.phone, at: input.occurredAt });
    }
    return consent;
  }

  async state(tenantId: string, phone: string, manager: EntityManager = this.ds.manager): Promise<ConsentState> {
    const [row]: Array<{ last_opt_out_at: Date | null; last_lift_at: Date | null }> = await manager.query(
      `SELECT last_opt_out_at, last_lift_at FROM consent_states WHERE tenant_id = $1 AND phone = $2`,
      [tenantId, phone],
    );
    const out = row?.last_opt_out_at ?? null;
    const optedOut = out !== null && (row.last_lift_at === null || out.getTime() >= row.last_lift_at.getTime());
    return { optedOut, optedOutAt: optedOut ? out : null };
  }

  list(tenantId: string, phone: string, page: PageQueryDto) {
    const qb = this.ds.getRepository(Consent).createQueryBuilder('c').where('c.tenant_id = :tenantId AND c.phone = :phone', { tenantId, phone });
    return paginate(qb, page);
  }

  /**
   * Whether a user's text is one of the tenant's stop or start keywords (whole message, any case or accents). The
   * tenant's `stop_keywords` / `start_keywords` replace the defaults when set.
   */
  async keywordOf(tenantId: string, text: string): Promise<'stop' | 'start' | null> {
    const normalised = normaliseKeyword(text);
    if (!normalised || normalised.length > 60) return null;
    const settings = await this.tenants.settingsOf(tenantId);
    const matches = (list: readonly string[] | undefined, fallback: readonly string[]) =>
      (list?.length ? list : fallback).some((k) => typeof k === 'string' && normaliseKeyword(k) === normalised);
    if (matches(settings.stop_keywords, DEFAULT_KEYWORDS.stop)) return 'stop';
    if (matches(settings.start_keywords, DEFAULT_KEYWORDS.start)) return 'start';
    return null;
  }
}
