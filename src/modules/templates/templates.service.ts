import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager, In, IsNull, Not } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { newId } from '../../common/ids/ids.js';
import { GiveUp, RetryLater } from '../../common/jobs/job-outcomes.js';
import { Jobs, type JobRun } from '../../common/jobs/jobs.service.js';
import { ProviderError } from '../../whatsapp/provider-error.js';
import { WhatsappProviders } from '../../whatsapp/whatsapp-providers.js';
import { authenticationPreset } from '../../whatsapp/auth-code.js';
import {
  CODE_EXPIRATION_MINUTES,
  COPY_CODE_BUTTON_MAX_CHARS,
  type AuthenticationOptions,
  type CreatedTemplate,
  type TemplateCategory,
  type TemplateDefinition,
  type TemplateState,
  type TemplateStatus,
  type TemplateStatusEvent,
  type TextTemplateDefinition,
} from '../../whatsapp/whatsapp.types.js';
import { LinesService, lineCredentials } from '../tenants/lines.service.js';
import { Template, TEMPLATE_STATUSES } from './entities/template.entity.js';

/** Job queues: a template's submission (tried at once after its commit; the job is the retry), and its status poll. */
export const TEMPLATE_SUBMIT = 'template.submit';
export const TEMPLATE_POLL = 'template.poll';

interface TemplateJob {
  templateId: string;
}

/** Submission retries: exponential from 30 s, capped at 1 h; after this many tries the template is marked failed. */
const MAX_SUBMIT_ATTEMPTS = 12;
/** The submission job waits this long for the try made right after the commit (it takes over if the process died). */
const SUBMIT_GRACE_MS = 60_000;
/** PENDING templates are polled this often (the webhook is the fast path; polling is the fallback). */
export const POLL_INTERVAL_MS = 60_000;

interface TemplateOwner {
  tenantId: string;
  lineId: string;
  language: string;
}

/** A template to write: with text of our own, or an AUTHENTICATION one (Meta's text, a copy-code button). */
export type NewTemplate = TemplateOwner &
  (
    | {
        category: TemplateCategory;
        body: string;
        bodyExamples: string[];
        header?: TextTemplateDefinition['header'];
        quickReplies?: string[];
        authentication?: undefined;
      }
    | { category: 'AUTHENTICATION'; authentication: AuthenticationOptions }
  );

/** What an authentication template made by `authenticationTemplate` says when the caller chooses nothing. */
export const DEFAULT_AUTHENTICATION: AuthenticationOptions = { addSecurityRecommendation: true };

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

/**
 * WhatsApp templates and their approval lifecycle. A template row is written inside the caller's transaction and
 * submitted to the line's provider after it commits (`submit`); a failed submission stays visible on the row and is
 * retried as a job of the shared runner, enqueued with the row. Status arrives by webhook (`applyStatusEvent`) or by
 * a poll job enqueued once the provider has the template.
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
    private readonly jobs: Jobs,
  ) {
    jobs.register<TemplateJob>(TEMPLATE_SUBMIT, (job, run) => this.attemptSubmission(job.templateId, run), {
      maxAttempts: MAX_SUBMIT_ATTEMPTS,
      backoff: { baseMs: 30_000, capMs: 3_600_000 },
      leaseMs: 2 * 60_000,
      onGiveUp: (m, job, failure) => this.submissionGivenUp(m, job.templateId, failure.error),
    });
    // Polls that find the template still in review come back a minute later without counting as failures.
    jobs.register<TemplateJob>(TEMPLATE_POLL, (job) => this.poll(job.templateId), {
      maxAttempts: 20,
      backoff: { baseMs: POLL_INTERVAL_MS, capMs: 3_600_000 },
      leaseMs: 2 * 60_000,
    });
  }

  /** Writes a PENDING template, to be submitted once the caller's transaction commits. */
  async create(manager: EntityManager, input: NewTemplate): Promise<Template> {
    const template = this.newRow(manager, input);
    await manager.insert(Template, template);
    await this.enqueueSubmission(manager, template);
    return template;
  }

  /**
   * The line's AUTHENTICATION template (copy-code button) in `language`: the one made here before, whatever its
   * status, or a new PENDING one written in the caller's transaction and submitted like any template (its job runs
   * a minute after the commit, or at once through `submit(id)` once the caller has committed). One per line and
   * language even when several transactions ask at once: the losers wait for the winner's commit and get its row.
   * `options` count only when the template is made. Send with it only once `status` is APPROVED.
   */
  async authenticationTemplate(manager: EntityManager, input: { tenantId: string; lineId: string; language: string; options?: AuthenticationOptions }): Promise<Template> {
    const existing = await this.findAuthentication(manager, input.lineId, input.language);
    if (existing) return existing;
    const authentication = checkedAuthentication(input.options ?? DEFAULT_AUTHENTICATION);
    const template = this.newRow(manager, { tenantId: input.tenantId, lineId: input.lineId, language: input.language, category: 'AUTHENTICATION', authentication });
    // ON CONFLICT DO NOTHING: a concurrent first use that wrote first wins (templates_authentication_line_language_uidx).
    const inserted = await manager.createQueryBuilder().insert().into(Template).values(template).orIgnore().returning(['id']).execute();
    if ((inserted.raw as unknown[]).length === 0) return (await this.findAuthentication(manager, input.lineId, input.language))!;
    await this.enqueueSubmission(manager, template);
    return template;
  }

  private findAuthentication(manager: EntityManager, lineId: string, language: string): Promise<Template | null> {
    return manager.findOneBy(Template, { lineId, language, authentication: Not(IsNull()) });
  }

  private enqueueSubmission(manager: EntityManager, template: Template): Promise<void> {
    const runAt = new Date(template.createdAt.getTime() + SUBMIT_GRACE_MS);
    return this.jobs.enqueue<TemplateJob>(manager, TEMPLATE_SUBMIT, { templateId: template.id }, { key: template.id, runAt });
  }

  private newRow(manager: EntityManager, input: NewTemplate): Template {
    const now = this.clock.now();
    const id = newId('TPL');
    const preset = input.authentication ? authenticationPreset(input.language, input.authentication) : null;
    return manager.create(Template, {
      id,
      tenantId: input.tenantId,
      lineId: input.lineId,
      name: `tg_${id.slice(3).toLowerCase()}`,
      language: input.language,
      category: input.category,
      body: input.authentication ? preset!.body : input.body,
      bodyExamples: input.authentication ? [] : input.bodyExamples,
      header: (!input.authentication && input.header) || null,
      quickReplies: (!input.authentication && input.quickReplies) || [],
      authentication: input.authentication ?? null,
      status: 'PENDING',
      rejectionReason: null,
      providerTemplateId: null,
      submissionState: 'pending',
      submitAttempts: 0,
      submitError: null,
      createdAt: now,
      updatedAt: now,
    });
  }

  /** The line's templates with these names (names are unique), for showing what was sent. */
  byNames(lineId: string, names: string[]): Promise<Template[]> {
    return names.length ? this.ds.manager.findBy(Template, { lineId, name: In([...new Set(names)]) }) : Promise.resolve([]);
  }

  get(id: string, manager: EntityManager = this.ds.manager): Promise<Template | null> {
    return manager.findOneBy(Template, { id });
  }

  getMany(ids: string[]): Promise<Template[]> {
    return ids.length ? this.ds.manager.findBy(Template, { id: In(ids) }) : Promise.resolve([]);
  }

  /** Ids of the tenant's templates in `status` (for filters of other modules' lists). */
  async idsWithStatus(tenantId: string, status: TemplateStatus): Promise<string[]> {
    return (await this.ds.manager.find(Template, { select: { id: true }, where: { tenantId, status } })).map((t) => t.id);
  }

  /**
   * Submits a template to its line's provider now (right after the commit that wrote it), through its submission
   * job. Never throws for provider failures: a retryable one leaves the row pending with the error and the job due
   * again with backoff, a definitive refusal marks it REJECTED with the provider's explanation as the reason. Returns
   * the row as it stands after.
   */
  async submit(id: string): Promise<Template | null> {
    await this.jobs.runNow(TEMPLATE_SUBMIT, id);
    return this.get(id);
  }

  /** One try of a submission (the TEMPLATE_SUBMIT handler); throws to be retried, GiveUp when it is refused for good. */
  private async attemptSubmission(id: string, run: JobRun): Promise<void> {
    const template = await this.get(id);
    if (!template || template.submissionState !== 'pending') return;
    const line = await this.lines.findById(template.lineId);
    const attempt = run.attempt;
    const now = () => this.clock.now();
    if (!line) return this.submissionFailed(template, attempt, new ProviderError('AUTH', false, 'The WhatsApp line was removed'), true);
    let created: CreatedTemplate;
    let found: (TemplateState & { providerTemplateId: string }) | null = null;
    try {
      const provider = this.providers.for(line);
      // A retry first looks for the template by name: an earlier try may have created it and lost the answer (a
      // crash, a timeout), and creating it again would only be refused as a duplicate.
      found = attempt > 1 ? await provider.findTemplate(lineCredentials(line), template.name, template.language) : null;
      created = found ?? (await provider.createTemplate(lineCredentials(line), this.definition(template)));
    } catch (err) {
      const error = err instanceof ProviderError ? err : new ProviderError('TRANSIENT', true, String(err));
      this.logger.warn({ templateId: id, code: error.code, err: error.message }, 'template submission failed');
      // Credentials can be fixed by the client, so an auth failure is worth retrying; a refused template is not.
      return this.submissionFailed(template, attempt, error, !(error.retryable || error.code === 'AUTH'));
    }
    await this.ds.transaction(async (m) => {
      await m.update(
        Template,
        { id },
        {
          providerTemplateId: created.providerTemplateId,
          submissionState: 'submitted',
          submitAttempts: attempt,
          submitError: null,
          updatedAt: now(),
        },
      );
      const fresh = await m.findOneByOrFail(Template, { id });
      const status = documentedStatus(created.status) ?? 'PENDING';
      // Only a template still in review takes the provider's first answer (a webhook may already have settled it).
      if (fresh.status === 'PENDING' && status !== 'PENDING') await this.transition(m, fresh, status, status === 'REJECTED' ? (found?.reason ?? null) : null, 'submission');
      else if (fresh.status === 'PENDING') await this.schedulePoll(m, id);
    });
  }

  /** Records a failed try on the row, then hands it to the runner: retried later, or given up (`submissionGivenUp`). */
  private async submissionFailed(template: Template, attempt: number, error: ProviderError, final: boolean): Promise<never> {
    await this.ds.manager.update(
      Template,
      { id: template.id },
      {
        submitAttempts: attempt,
        submitError: `${error.code}: ${error.message}`.slice(0, 1000),
        updatedAt: this.clock.now(),
      },
    );
    throw final ? new GiveUp(error.message) : error;
  }

  /** The submission is refused for good or its tries ran out: the template is REJECTED with the last reason. */
  private async submissionGivenUp(m: EntityManager, id: string, error: string): Promise<void> {
    const fresh = await m.findOne(Template, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!fresh || fresh.submissionState !== 'pending') return;
    await m.update(Template, { id }, { submissionState: 'failed', updatedAt: this.clock.now() });
    fresh.submissionState = 'failed';
    await this.transition(m, fresh, 'REJECTED', `Submission refused: ${error}`.slice(0, 1000), 'submission');
  }

  /** Runs the submission jobs that are due once (first tries that never ran, and retries). Returns how many were tried. */
  retrySubmissions(): Promise<number> {
    return this.jobs.runDue(TEMPLATE_SUBMIT, 50);
  }

  /** Runs the status polls that are due once. Returns how many templates were polled. */
  pollPending(): Promise<number> {
    return this.jobs.runDue(TEMPLATE_POLL, 50);
  }

  /** Polls the template's status a minute from now, and every minute while it stays in review (once per template). */
  private schedulePoll(manager: EntityManager, id: string): Promise<void> {
    return this.jobs.enqueue<TemplateJob>(manager, TEMPLATE_POLL, { templateId: id }, { key: id, runAt: new Date(this.clock.now().getTime() + POLL_INTERVAL_MS) });
  }

  /** Asks the provider about a submitted template still in review (the TEMPLATE_POLL handler). */
  private async poll(id: string): Promise<void> {
    const template = await this.get(id);
    if (!template || template.status !== 'PENDING' || !template.providerTemplateId) return;
    const line = await this.lines.findById(template.lineId);
    if (!line) return;
    const state = await this.providers.for(line).getTemplate(lineCredentials(line), template.providerTemplateId);
    const status = documentedStatus(state.status);
    if (!status || status === 'PENDING') throw new RetryLater(POLL_INTERVAL_MS, 'still in review');
    await this.ds.transaction(async (m) => {
      const fresh = await m.findOne(Template, { where: { id }, lock: { mode: 'pessimistic_write' } });
      // A webhook may have moved it meanwhile; the poll only settles templates still in review.
      if (fresh?.status === 'PENDING') await this.transition(m, fresh, status, state.reason ?? null, 'poll');
    });
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
      // The webhook overtook the submission's answer: the submission job finds it submitted and stops; polling starts.
      await manager.update(Template, { id: template.id }, { providerTemplateId: event.providerTemplateId, submissionState: 'submitted' });
      template.providerTemplateId = event.providerTemplateId;
      template.submissionState = 'submitted';
      await this.schedulePoll(manager, template.id);
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
    if (t.authentication) return { name: t.name, language: t.language, category: 'AUTHENTICATION', authentication: t.authentication };
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

/** The options Meta accepts (its limits), or a RangeError naming the one at fault: they come from code, not a request. */
function checkedAuthentication(o: AuthenticationOptions): AuthenticationOptions {
  const minutes = o.codeExpirationMinutes;
  if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < CODE_EXPIRATION_MINUTES.min || minutes > CODE_EXPIRATION_MINUTES.max)) {
    throw new RangeError(`codeExpirationMinutes must be a whole number from ${CODE_EXPIRATION_MINUTES.min} to ${CODE_EXPIRATION_MINUTES.max}`);
  }
  const text = o.copyCodeButtonText;
  if (text !== undefined && ([...text].length < 1 || [...text].length > COPY_CODE_BUTTON_MAX_CHARS)) {
    throw new RangeError(`copyCodeButtonText must be 1-${COPY_CODE_BUTTON_MAX_CHARS} characters`);
  }
  return { ...o };
}
