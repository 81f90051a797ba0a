import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager, In } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { newId } from '../../common/ids/ids.js';
import { queryReturning } from '../../database/sql.js';
import { ProviderError } from '../../whatsapp/provider-error.js';
import { WhatsappProviders } from '../../whatsapp/whatsapp-providers.js';
import type { TemplateCategory, TemplateDefinition, TemplateStatus, TemplateStatusEvent } from '../../whatsapp/whatsapp.types.js';
import { LinesService, lineCredentials } from '../tenants/lines.service.js';
import { Template, TEMPLATE_STATUSES } from './entities/template.entity.js';

/** Submission retries: exponential from 30 s, capped at 1 h; after this many tries the template is marked failed. */
const MAX_SUBMIT_ATTEMPTS = 12;
const SUBMIT_LEASE_MS = 60_000;
/** PENDING templates are polled this often (the webhook is the fast path; polling is the fallback). */
export const POLL_INTERVAL_MS = 60_000;
const BATCH = 50;

export interface NewTemplate {
  tenantId: string;
  lineId: string;
  language: string;
  category: TemplateCategory;
  body: string;
  bodyExamples: string[];
  header?: TemplateDefinition['header'];
  quickReplies?: string[];
}

/** One status change of a template, as it passes through TemplatesService.transition. */
export interface TemplateStatusChange {
  template: Template;
  from: TemplateStatus;
  to: TemplateStatus;
  reason: string | null;
  source: 'submission' | 'webhook' | 'poll';
}

/** Maps provider event names to the documented statuses; anything else is not a status change. */
function documentedStatus(event: string): TemplateStatus | null {
  const e = event.toUpperCase();
  if ((TEMPLATE_STATUSES as readonly string[]).includes(e)) return e as TemplateStatus;
  if (e === 'REINSTATED') return 'APPROVED';
  if (e === 'DELETED' || e === 'PENDING_DELETION') return 'DISABLED';
  return null;
}

const submitDelayMs = (attempt: number) => Math.min(30_000 * 2 ** (attempt - 1), 3_600_000);

/**
 * WhatsApp templates and their approval lifecycle. A template row is written inside the caller's transaction and
 * submitted to the line's provider after it commits (`submit`); a failed submission stays visible on the row and is
 * retried by `retrySubmissions`. Status arrives by webhook (`applyStatusEvent`) or by polling (`pollPending`).
 */
@Injectable()
export class TemplatesService {
  private readonly transitionListeners: Array<(manager: EntityManager, change: TemplateStatusChange) => Promise<void>> = [];
  private readonly logger = new Logger(TemplatesService.name);

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly providers: WhatsappProviders,
    private readonly lines: LinesService,
  ) {}

  /** Writes a PENDING template, to be submitted once the caller's transaction commits. */
  async create(manager: EntityManager, input: NewTemplate): Promise<Template> {
    const now = this.clock.now();
    const id = newId('TPL');
    const template = manager.create(Template, {
      id,
      tenantId: input.tenantId,
      lineId: input.lineId,
      name: `tg_${id.slice(3).toLowerCase()}`,
      language: input.language,
      category: input.category,
      body: input.body,
      bodyExamples: input.bodyExamples,
      header: input.header ?? null,
      quickReplies: input.quickReplies ?? [],
      status: 'PENDING',
      rejectionReason: null,
      providerTemplateId: null,
      submissionState: 'pending',
      submitAttempts: 0,
      nextSubmitAt: new Date(now.getTime() + SUBMIT_LEASE_MS),
      submitError: null,
      nextPollAt: null,
      createdAt: now,
      updatedAt: now,
    });
    await manager.insert(Template, template);
    return template;
  }

  /** The line's templates with these names (names are unique), for showing what was sent. */
  byNames(lineId: string, names: string[]): Promise<Template[]> {
    return names.length ? this.ds.manager.findBy(Template, { lineId, name: In([...new Set(names)]) }) : Promise.resolve([]);
  }

  get(id: string, manager: EntityManager = this.ds.manager): Promise<Template | null> {
    return manager.findOneBy(Template, { id });
  }

  /**
   * Submits a template to its line's provider. Never throws for provider failures: a retryable one leaves the row
   * pending with the error and the next attempt time, a definitive refusal marks it REJECTED with the provider's
   * explanation as the reason. Returns the row as it stands after.
   */
  async submit(id: string): Promise<Template | null> {
    const template = await this.get(id);
    if (!template || template.submissionState !== 'pending') return template;
    const line = await this.lines.findById(template.lineId);
    const attempt = template.submitAttempts + 1;
    const now = () => this.clock.now();
    if (!line) return this.submissionFailed(template, attempt, new ProviderError('AUTH', false, 'The WhatsApp line was removed'));
    try {
      const provider = this.providers.for(line);
      // A retry first looks for the template by name: an earlier try may have created it and lost the answer (a
      // crash, a timeout), and creating it again would only be refused as a duplicate.
      const found = attempt > 1 ? await provider.findTemplate(lineCredentials(line), template.name, template.language) : null;
      const created = found ?? (await provider.createTemplate(lineCredentials(line), this.definition(template)));
      return await this.ds.transaction(async (m) => {
        await m.update(Template, { id }, {
          providerTemplateId: created.providerTemplateId,
          submissionState: 'submitted',
          submitAttempts: attempt,
          nextSubmitAt: null,
          submitError: null,
          nextPollAt: new Date(now().getTime() + POLL_INTERVAL_MS),
          updatedAt: now(),
        });
        const fresh = await m.findOneByOrFail(Template, { id });
        const status = documentedStatus(created.status) ?? 'PENDING';
        // Only a template still in review takes the provider's first answer (a webhook may already have settled it).
        if (fresh.status === 'PENDING' && status !== 'PENDING') return this.transition(m, fresh, status, status === 'REJECTED' ? (found?.reason ?? null) : null, 'submission');
        return fresh;
      });
    } catch (err) {
      const error = err instanceof ProviderError ? err : new ProviderError('TRANSIENT', true, String(err));
      this.logger.warn({ templateId: id, code: error.code, err: error.message }, 'template submission failed');
      return this.submissionFailed(template, attempt, error);
    }
  }

  private async submissionFailed(template: Template, attempt: number, error: ProviderError): Promise<Template> {
    // Credentials can be fixed by the client, so an auth failure is worth retrying; a refused template is not.
    const retry = (error.retryable || error.code === 'AUTH') && attempt < MAX_SUBMIT_ATTEMPTS;
    const now = this.clock.now();
    return this.ds.transaction(async (m) => {
      await m.update(Template, { id: template.id }, {
        submissionState: retry ? 'pending' : 'failed',
        submitAttempts: attempt,
        nextSubmitAt: retry ? new Date(now.getTime() + submitDelayMs(attempt)) : null,
        submitError: `${error.code}: ${error.message}`.slice(0, 1000),
        updatedAt: now,
      });
      const fresh = await m.findOneByOrFail(Template, { id: template.id });
      if (retry) return fresh;
      return this.transition(m, fresh, 'REJECTED', `Submission refused: ${error.message}`.slice(0, 1000), 'submission');
    });
  }

  /** Submits templates whose submission is due (first attempts that never ran, and retries). Returns how many were tried. */
  async retrySubmissions(): Promise<number> {
    const now = this.clock.now();
    // Claiming pushes next_submit_at by a lease, so another instance does not submit the same template meanwhile.
    const rows = await queryReturning<{ id: string }>(
      this.ds,
      `UPDATE templates SET next_submit_at = $2 WHERE id IN (
         SELECT id FROM templates WHERE submission_state = 'pending' AND next_submit_at <= $1
          ORDER BY next_submit_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [now, new Date(now.getTime() + SUBMIT_LEASE_MS), BATCH],
    );
    for (const r of rows) await this.submit(r.id);
    return rows.length;
  }

  /** Asks the provider about submitted templates still PENDING whose poll is due. Returns how many changed status. */
  async pollPending(): Promise<number> {
    const now = this.clock.now();
    const rows = await queryReturning<{ id: string }>(
      this.ds,
      `UPDATE templates SET next_poll_at = $2 WHERE id IN (
         SELECT id FROM templates WHERE status = 'PENDING' AND submission_state = 'submitted' AND next_poll_at <= $1
          ORDER BY next_poll_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [now, new Date(now.getTime() + POLL_INTERVAL_MS), BATCH],
    );
    let changed = 0;
    for (const { id } of rows) {
      const template = await this.get(id);
      const line = template && (await this.lines.findById(template.lineId));
      if (!template || !line || !template.providerTemplateId) continue;
      try {
        const state = await this.providers.for(line).getTemplate(lineCredentials(line), template.providerTemplateId);
        const status = documentedStatus(state.status);
        if (!status || status === 'PENDING') continue;
        await this.ds.transaction(async (m) => {
          const fresh = await m.findOne(Template, { where: { id }, lock: { mode: 'pessimistic_write' } });
          // A webhook may have moved it meanwhile; the poll only settles templates still in review.
          if (fresh?.status === 'PENDING') await this.transition(m, fresh, status, state.reason ?? null, 'poll');
        });
        changed++;
      } catch (err) {
        this.logger.warn({ templateId: id, err: (err as Error).message }, 'template status poll failed');
      }
    }
    return changed;
  }

  /**
   * Applies a `message_template_status_update` inside the webhook processor's transaction. Returns the template
   * when the event concerned one of ours, else null (another system's template on a shared WABA).
   */
  async applyStatusEvent(manager: EntityManager, event: TemplateStatusEvent, tenantId: string): Promise<Template | null> {
    if (!event.providerTemplateId) return null;
    // By name too: the webhook can overtake the commit that records the provider's id (names are ours and unique).
    // Only the tenant's own templates: the event came through one of its lines.
    const template =
      (await manager.findOne(Template, { where: { providerTemplateId: event.providerTemplateId, tenantId }, lock: { mode: 'pessimistic_write' } })) ??
      (event.name.startsWith('tg_') ? await manager.findOne(Template, { where: { name: event.name, tenantId }, lock: { mode: 'pessimistic_write' } }) : null);
    if (!template) return null;
    if (!template.providerTemplateId) {
      await manager.update(Template, { id: template.id }, { providerTemplateId: event.providerTemplateId, submissionState: 'submitted', nextSubmitAt: null });
      template.providerTemplateId = event.providerTemplateId;
    }
    const status = documentedStatus(String(event.status));
    if (!status) return template;
    return this.transition(manager, template, status, status === 'REJECTED' ? (event.reason ?? null) : null, 'webhook');
  }

  /**
   * Every status change passes through here, inside the transaction that causes it: the one place where a
   * consequence of a change (e.g. a hook delivery to the client) is added so it commits with the change.
   */
  async transition(manager: EntityManager, template: Template, to: TemplateStatus, reason: string | null, source: TemplateStatusChange['source']): Promise<Template> {
    const change: TemplateStatusChange = { template, from: template.status, to, reason, source };
    if (change.from === to && template.rejectionReason === reason) return template;
    const updatedAt = this.clock.now();
    await manager.update(Template, { id: template.id }, { status: to, rejectionReason: reason, updatedAt });
    this.logger.log({ templateId: template.id, from: change.from, to, source }, 'template status changed');
    Object.assign(template, { status: to, rejectionReason: reason, updatedAt });
    for (const listener of this.transitionListeners) await listener(manager, change);
    return template;
  }

  /** Modules above react to status changes inside the same transaction (the outbound's `outbound.status` hook). */
  onTransition(listener: (manager: EntityManager, change: TemplateStatusChange) => Promise<void>): void {
    this.transitionListeners.push(listener);
  }

  private definition(t: Template): TemplateDefinition {
    return {
      name: t.name,
      language: t.language,
      category: t.category,
      body: t.body,
      bodyExamples: t.bodyExamples,
      ...(t.header ? { header: t.header } : {}),
      ...(t.quickReplies.length ? { quickReplies: t.quickReplies } : {}),
    };
  }
}
