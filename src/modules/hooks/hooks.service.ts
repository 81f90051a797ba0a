import { HttpStatus, Injectable } from '@nestjs/common';
import { LookupCache } from '../../common/cache/lookup-cache.js';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { EntityManager, In, Repository } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { AppConfig } from '../../config/app-config.js';
import type { CreateHookDto, DeliveryDto, ListDeliveriesQueryDto, UpdateHookDto } from './dto/hook.dto.js';
import { HookDeliveryAttempt } from './entities/hook-delivery-attempt.entity.js';
import { HookDelivery } from './entities/hook-delivery.entity.js';
import { Hook } from './entities/hook.entity.js';
import { HOOK_EVENTS, PING_EVENT } from './hook-events.js';
import { HookErrorCode } from './hooks.errors.js';
import { checkOutgoingUrl } from '../../common/http/url-guard.js';

/** After a rotation the previous secret keeps signing for this long, so clients can switch without losing a hook. */
export const SECRET_OVERLAP_MS = 24 * 3600_000;

export interface HookEventInput {
  tenantId: string;
  /** One of HOOK_EVENTS. */
  type: string;
  /** The event's document; a function is called only when some hook wants the event. */
  data: object | (() => Promise<object>);
  /** The flow of the process the event is about; hooks with `flow_ids` only get events of those flows. */
  flowId?: string | null;
}

const newSecret = () => 'whsec_' + randomBytes(24).toString('base64');

@Injectable()
export class HooksService {
  private readonly subscriptions = new LookupCache<Array<Pick<Hook, 'id' | 'events' | 'flowIds'>>>('hook-subscriptions');

  constructor(
    @InjectRepository(Hook) private readonly hooks: Repository<Hook>,
    @InjectRepository(HookDelivery) private readonly deliveries: Repository<HookDelivery>,
    @InjectRepository(HookDeliveryAttempt) private readonly attempts: Repository<HookDeliveryAttempt>,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /**
   * The outbox write: stores the event and one pending delivery per matching active hook, in the caller's
   * transaction (`manager`), so the change and its hooks commit or roll back together. Returns the event id, or null
   * when no hook wanted it (then nothing is written).
   */
  async emit(manager: EntityManager, event: HookEventInput): Promise<string | null> {
    if (!(HOOK_EVENTS as readonly string[]).includes(event.type)) throw new Error(`Unknown hook event type: ${event.type}`);
    const matching = (await this.activeHooks(event.tenantId)).filter(
      (h) => h.events.includes(event.type) && (h.flowIds.length === 0 || (!!event.flowId && h.flowIds.includes(event.flowId))),
    );
    if (matching.length === 0) return null;
    const data = typeof event.data === 'function' ? await event.data() : event.data;
    return this.enqueue(
      manager,
      { ...event, data },
      matching.map((h) => h.id),
    );
  }

  /**
   * Whether some active hook of the tenant takes events of this type that are about no flow (cached, like `emit`):
   * hot paths ask first and build nothing when nobody listens.
   */
  async wants(tenantId: string, type: string): Promise<boolean> {
    return (await this.activeHooks(tenantId)).some((h) => h.events.includes(type) && h.flowIds.length === 0);
  }

  /**
   * `emit` for many events about no flow at once (a batch writer's outcomes): two INSERTs for the whole batch, in the
   * caller's transaction, events stored in the order given. Returns how many events were stored.
   */
  async emitMany(manager: EntityManager, events: Array<{ tenantId: string; type: string; data: object }>): Promise<number> {
    const rows: Array<{ eventId: string; tenantId: string; type: string; data: object; hookIds: string[] }> = [];
    for (const event of events) {
      if (!(HOOK_EVENTS as readonly string[]).includes(event.type)) throw new Error(`Unknown hook event type: ${event.type}`);
      const hookIds = (await this.activeHooks(event.tenantId)).filter((h) => h.events.includes(event.type) && h.flowIds.length === 0).map((h) => h.id);
      if (hookIds.length > 0) rows.push({ ...event, eventId: newId('EVT'), hookIds });
    }
    if (rows.length === 0) return 0;
    const now = this.clock.now();
    await manager.query(
      `INSERT INTO hook_events (id, tenant_id, type, flow_id, data, created_at)
       SELECT e.id, e.tenant_id, e.type, NULL, e.data, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS e(id, tenant_id, type, data)`,
      [rows.map((r) => r.eventId), rows.map((r) => r.tenantId), rows.map((r) => r.type), rows.map((r) => JSON.stringify(r.data)), now],
    );
    const deliveries = rows.flatMap((r) => r.hookIds.map((hookId) => ({ id: newId('HKD'), tenantId: r.tenantId, hookId, eventId: r.eventId, type: r.type })));
    await manager.query(
      `INSERT INTO hook_deliveries (id, tenant_id, hook_id, event_id, event_type, status, next_attempt_at, created_at)
       SELECT d.id, d.tenant_id, d.hook_id, d.event_id, d.event_type, 'pending', $6, $6
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS d(id, tenant_id, hook_id, event_id, event_type)
         JOIN hooks h ON h.id = d.hook_id AND h.active`,
      [deliveries.map((d) => d.id), deliveries.map((d) => d.tenantId), deliveries.map((d) => d.hookId), deliveries.map((d) => d.eventId), deliveries.map((d) => d.type), now],
    );
    return rows.length;
  }

  /** Drops the cached subscriptions (everywhere), after hooks changed elsewhere than in this service. */
  subscriptionsChanged(): void {
    this.subscriptions.clear();
  }

  /** A tenant's active hooks, for `emit` on every result (cached: LOOKUP_TTL_MS, dropped at once on a change here). */
  private activeHooks(tenantId: string): Promise<Array<Pick<Hook, 'id' | 'events' | 'flowIds'>>> {
    return this.subscriptions.get(tenantId, () => this.hooks.find({ where: { tenantId, active: true }, select: { id: true, events: true, flowIds: true } }));
  }

  async create(tenantId: string, dto: CreateHookDto): Promise<{ hook: Hook; secret: string }> {
    this.checkUrl(dto.url);
    const secret = newSecret();
    const id = newId('HOK');
    await this.hooks.insert({
      id,
      tenantId,
      url: dto.url,
      events: unique(dto.events),
      flowIds: unique(dto.flow_ids ?? []),
      active: dto.active ?? true,
      secret,
    });
    this.subscriptionsChanged();
    return { hook: await this.get(tenantId, id), secret };
  }

  list(tenantId: string, page: PageQueryDto) {
    return paginate(this.hooks.createQueryBuilder('h').where('h.tenant_id = :tenantId', { tenantId }), page);
  }

  async get(tenantId: string, id: string): Promise<Hook> {
    const hook = await this.hooks.findOneBy({ id, tenantId });
    if (!hook) throw AppError.notFound('Hook', id);
    return hook;
  }

  async update(tenantId: string, id: string, dto: UpdateHookDto): Promise<Hook> {
    const hook = await this.get(tenantId, id);
    if (dto.url !== undefined) {
      this.checkUrl(dto.url);
      hook.url = dto.url;
    }
    if (dto.events !== undefined) hook.events = unique(dto.events);
    if (dto.flow_ids !== undefined) hook.flowIds = unique(dto.flow_ids);
    if (dto.active !== undefined) {
      hook.active = dto.active;
      if (dto.active) {
        // Re-enabled by the client: a fresh start for the 3-day failure rule.
        hook.disabledReason = null;
        hook.disabledAt = null;
        hook.failingSince = null;
      }
    }
    await this.hooks.save(hook);
    this.subscriptionsChanged();
    return this.get(tenantId, id);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const hook = await this.get(tenantId, id);
    await this.hooks.delete({ id: hook.id });
    this.subscriptionsChanged();
  }

  /** A new secret; the previous one keeps signing alongside it for 24 hours. */
  async rotateSecret(tenantId: string, id: string): Promise<{ hook: Hook; secret: string }> {
    const hook = await this.hooks.findOne({ where: { id, tenantId }, select: { id: true, secret: true } });
    if (!hook) throw AppError.notFound('Hook', id);
    const secret = newSecret();
    await this.hooks.update({ id }, { secret, previousSecret: hook.secret, previousSecretExpiresAt: new Date(this.clock.now().getTime() + SECRET_OVERLAP_MS) });
    return { hook: await this.get(tenantId, id), secret };
  }

  /** Enqueues a `ping` event to this hook only, whatever its event filter. */
  async test(tenantId: string, id: string): Promise<DeliveryDto> {
    const hook = await this.get(tenantId, id);
    this.requireActive(hook);
    const eventId = await this.hooks.manager.transaction((m) =>
      this.enqueue(m, { tenantId, type: PING_EVENT, data: { hook_id: hook.id, message: 'Testigo test event' } }, [hook.id]),
    );
    const delivery = await this.deliveries.findOneByOrFail({ eventId, hookId: hook.id });
    return (await this.toDtos([delivery]))[0];
  }

  async listDeliveries(tenantId: string, hookId: string, query: ListDeliveriesQueryDto): Promise<{ items: DeliveryDto[]; next_cursor: string | null }> {
    const hook = await this.get(tenantId, hookId);
    const qb = this.deliveries.createQueryBuilder('d').where('d.hook_id = :hookId', { hookId: hook.id });
    if (query.status) qb.andWhere('d.status = :status', { status: query.status });
    if (query.event) qb.andWhere('d.event_type = :event', { event: query.event });
    const { items, next_cursor } = await paginate(qb, query);
    return { items: await this.toDtos(items), next_cursor };
  }

  /** Sends a finished delivery again (same event, same `webhook-id`), due now, with a new 3-day retry window. */
  async redeliver(tenantId: string, deliveryId: string): Promise<DeliveryDto> {
    const delivery = await this.deliveries.findOneBy({ id: deliveryId, tenantId });
    if (!delivery) throw AppError.notFound('Delivery', deliveryId);
    if (delivery.status === 'pending' || delivery.status === 'sending') {
      throw new AppError(HttpStatus.CONFLICT, HookErrorCode.DELIVERY_IN_PROGRESS, `Delivery ${deliveryId} is still ${delivery.status}`);
    }
    this.requireActive(await this.get(tenantId, delivery.hookId));
    await this.deliveries.update(
      { id: delivery.id, status: In(['failed', 'succeeded']) },
      { status: 'pending', nextAttemptAt: this.clock.now(), attemptCount: 0, firstAttemptAt: null, deliveredAt: null },
    );
    return (await this.toDtos([await this.deliveries.findOneByOrFail({ id: delivery.id })]))[0];
  }

  private async enqueue(manager: EntityManager, event: HookEventInput & { data: object }, hookIds: string[]): Promise<string> {
    const now = this.clock.now();
    const eventId = newId('EVT');
    await manager.query(`INSERT INTO hook_events (id, tenant_id, type, flow_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
      eventId,
      event.tenantId,
      event.type,
      event.flowId ?? null,
      JSON.stringify(event.data),
      now,
    ]);
    // Only hooks that still exist and are active: the subscriptions may come from a cache a little behind.
    await manager.query(
      `INSERT INTO hook_deliveries (id, tenant_id, hook_id, event_id, event_type, status, next_attempt_at, created_at)
       SELECT d.id, $2, d.hook_id, $4, $5, 'pending', $6, $6
         FROM unnest($1::text[], $3::text[]) AS d(id, hook_id) JOIN hooks h ON h.id = d.hook_id AND h.active`,
      [hookIds.map(() => newId('HKD')), event.tenantId, hookIds, eventId, event.type, now],
    );
    return eventId;
  }

  private async toDtos(rows: HookDelivery[]): Promise<DeliveryDto[]> {
    const attempts = rows.length ? await this.attempts.find({ where: { deliveryId: In(rows.map((r) => r.id)) }, order: { id: 'ASC' } }) : [];
    return rows.map((d) => ({
      id: d.id,
      hook_id: d.hookId,
      event_id: d.eventId,
      event_type: d.eventType,
      status: d.status,
      next_attempt_at: d.status === 'pending' || d.status === 'sending' ? (d.nextAttemptAt?.toISOString() ?? null) : null,
      delivered_at: d.deliveredAt?.toISOString() ?? null,
      attempts: attempts
        .filter((a) => a.deliveryId === d.id)
        .map((a) => ({
          at: a.attemptedAt.toISOString(),
          http_status: a.httpStatus,
          latency_ms: a.latencyMs,
          error: a.error,
          response_excerpt: a.responseExcerpt,
        })),
      created_at: d.createdAt.toISOString(),
    }));
  }

  private requireActive(hook: Hook): void {
    if (!hook.active) {
      throw new AppError(HttpStatus.CONFLICT, HookErrorCode.HOOK_INACTIVE, `Hook ${hook.id} is inactive: set active=true first`);
    }
  }

  private checkUrl(url: string): void {
    const problem = checkOutgoingUrl(url, this.config.allowLocalUrls);
    if (problem) throw AppError.validation('url', problem);
  }
}

const unique = (xs: string[]) => [...new Set(xs)];
