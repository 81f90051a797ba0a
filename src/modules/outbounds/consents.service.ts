import { BatchStatement, WriteBehind } from '../../database/write-behind.js';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { userPhone } from '../../common/phone/phone.js';
import type { InboundMessageEvent, OptOutEvent, StatusUpdateEvent } from '../../whatsapp/whatsapp.types.js';
import { ConversationsService, type InboundStart } from '../conversations/conversations.service.js';
import { SendQueueService, type SendFailure } from '../messages/send-queue.service.js';
import { DEFAULT_KEYWORDS } from '../tenants/default-keywords.js';
import type { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { Consent, CONSENT_SOURCES, type ConsentKind } from './entities/consent.entity.js';
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
export class ConsentsService implements OnModuleInit {
  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly tenants: TenantsService,
    private readonly sendQueue: SendQueueService,
    private readonly conversations: ConversationsService,
  ) {}

  onModuleInit(): void {
    // WhatsApp error 131050 on a send: the user stopped marketing messages; recorded as an opt-out with the failure.
    this.sendQueue.onFailures((m, failures) => this.recordMarketingOptOuts(m, failures));
    // Starting an inbound flow by writing to the line is a new opt-in that lifts an earlier opt-out.
    this.conversations.onInboundStart((m, start) => this.recordInboundFlowStart(m, start));
  }

  /** A stop or start keyword typed by the user, recorded as their opt-out or opt-in; null when the text is neither. */
  async applyKeyword(manager: EntityManager, line: WhatsappLine, ev: InboundMessageEvent, phone: string): Promise<'stop' | 'start' | null> {
    if (ev.type !== 'text' || !ev.text) return null;
    const keyword = await this.keywordOf(line.tenantId, ev.text);
    if (!keyword) return null;
    await this.record(manager, {
      tenantId: line.tenantId,
      phone,
      kind: keyword === 'stop' ? 'opt_out' : 'opt_in',
      source: CONSENT_SOURCES.KEYWORD,
      occurredAt: ev.timestamp,
      lineId: line.id,
      evidence: ev.text.slice(0, 200),
      liftsOptOut: keyword === 'start',
    });
    return keyword;
  }

  /** WhatsApp's own marketing preference (user_preferences webhook). A resume is recorded but, per the contract, lifts nothing. */
  async handlePreference(manager: EntityManager, line: WhatsappLine, ev: OptOutEvent): Promise<void> {
    await this.record(manager, {
      tenantId: line.tenantId,
      phone: userPhone(ev.from),
      kind: ev.kind,
      source: CONSENT_SOURCES.WHATSAPP_PREFERENCE,
      occurredAt: ev.timestamp,
      lineId: line.id,
      evidence: ev.detail.slice(0, 200) || null,
      liftsOptOut: false,
    });
  }

  /**
   * A `failed` status webhook with error 131050 (the send was accepted, then refused as a marketing opt-out), applied
   * to a message of `line` sent to `phone` (E.164): the opt-out is that user's, on that line's tenant.
   */
  async handleFailedStatus(manager: EntityManager, line: WhatsappLine, phone: string, ev: StatusUpdateEvent): Promise<boolean> {
    if (ev.status !== 'failed' || ev.error?.code !== '131050') return false;
    await this.record(manager, {
      tenantId: line.tenantId,
      phone,
      kind: 'opt_out',
      source: CONSENT_SOURCES.MARKETING_OPT_OUT,
      occurredAt: ev.timestamp,
      lineId: line.id,
      evidence: ev.wamid,
    });
    return true;
  }

  private async recordMarketingOptOuts(manager: EntityManager, failures: SendFailure[]): Promise<void> {
    for (const f of failures.filter((x) => x.code === 'MARKETING_OPTED_OUT')) {
      await this.record(manager, {
        tenantId: f.tenantId,
        phone: f.phone,
        kind: 'opt_out',
        source: CONSENT_SOURCES.MARKETING_OPT_OUT,
        occurredAt: this.clock.now(),
        lineId: f.lineId,
        evidence: f.messageId,
      });
    }
  }

  private async recordInboundFlowStart(manager: EntityManager, start: InboundStart): Promise<void> {
    await this.record(manager, {
      tenantId: start.tenantId,
      phone: start.phone,
      kind: 'opt_in',
      source: CONSENT_SOURCES.INBOUND_FLOW,
      occurredAt: start.at,
      lineId: start.lineId,
      evidence: start.flowId,
      liftsOptOut: true,
    });
  }

  /**
   * The opt-in an invitation was sent under, for the evidence of the process it starts: the send, and the person's
   * opt-ins recorded up to it (newest first, at most 5: the client's own records such as a web form, and the
   * `api_send` one the send itself recorded with the API key that sent it).
   */
  async optInOfSend(manager: EntityManager, sendId: string): Promise<Record<string, unknown>> {
    const rows: Array<{ id: string; source: string; occurred_at: Date; api_key_id: string | null; evidence: string | null }> = await manager.query(
      `SELECT c.id, c.source, c.occurred_at, c.api_key_id, c.evidence
         FROM outbound_sends s
         JOIN consents c ON c.tenant_id = s.tenant_id AND c.phone = s.phone AND c.kind = 'opt_in' AND c.recorded_at <= s.created_at
        WHERE s.id = $1
        ORDER BY c.recorded_at DESC, c.id DESC
        LIMIT 5`,
      [sendId],
    );
    return {
      source: 'invitation',
      send_id: sendId,
      consents: rows.map((r) => ({ consent_id: r.id, source: r.source, occurred_at: r.occurred_at.toISOString(), api_key_id: r.api_key_id, evidence: r.evidence })),
    };
  }

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
