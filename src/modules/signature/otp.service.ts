import { Injectable, Logger } from '@nestjs/common';
import { randomInt, timingSafeEqual } from 'node:crypto';
import { DataSource, EntityManager, In } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { GiveUp, RetryLater } from '../../common/jobs/job-outcomes.js';
import { Jobs } from '../../common/jobs/jobs.service.js';
import { secretBox } from '../../common/secrets/secret-box.js';
import { smsJobError, SmsService } from '../../sms/index.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import type { StepProcess } from '../flows/steps/step-type.js';
import { MessagesService } from '../messages/messages.service.js';
import { TemplatesService } from '../templates/templates.service.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { OtpChallenge, type OtpChannel } from './entities/otp-challenge.entity.js';
import { contractText } from './texts.js';

/** The job queue that hands a one-time code to its channel (SMS provider, or WhatsApp's send queue). */
export const OTP_DELIVER = 'otp.deliver';

interface OtpDeliverJob {
  processId: string;
  stepId: string;
  generation: number;
  language: string;
  /** How long the code is good for once its channel took it. */
  ttlMinutes: number;
}

/** A code's delivery is retried for about an hour (a provider that is down), then the process fails. */
const DELIVERY = { maxAttempts: 10, backoff: { baseMs: 5_000, capMs: 15 * 60_000 } };
/** How often a delivery waiting for the line's authentication template to be approved looks again. */
const TEMPLATE_WAIT_MS = 30_000;

export interface NewChallenge {
  process: StepProcess;
  stepId: string;
  channel: OtpChannel;
  ttlMinutes: number;
  language: string;
}

export type CheckResult = { kind: 'verified' } | { kind: 'wrong'; attempts: number } | { kind: 'expired' };

/** The state of a process's code, as the results API shows it (never the code). */
export interface OtpState {
  step_id: string;
  channel: OtpChannel;
  status: OtpChallenge['status'];
  sent_at: string | null;
  expires_at: string;
  verified_at: string | null;
  attempts: number;
  resends: number;
}

/**
 * One-time codes: six digits from crypto.randomInt, kept only as an HMAC keyed by SECRETS_KEY's lookup key and bound
 * to the process, step and generation (so equal codes never share a hash), compared in constant time. The code is
 * sealed on its row from its creation until its channel took it (a job, retried while the provider is down), then
 * dropped; it is never logged, and never in a hook or the results API.
 */
@Injectable()
export class OtpService {
  private readonly logger = new Logger(OtpService.name);

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly jobs: Jobs,
    private readonly sms: SmsService,
    private readonly tenants: TenantsService,
    private readonly templates: TemplatesService,
    private readonly messages: MessagesService,
    private readonly conversations: ConversationsService,
  ) {
    jobs.register<OtpDeliverJob>(OTP_DELIVER, (job) => this.deliver(job), {
      ...DELIVERY,
      onGiveUp: (m, job, failure) => this.undeliverable(m, job, failure.error),
    });
  }

  /** A first code for the step (a step entered again, after a loop back, starts over). */
  async start(m: EntityManager, input: NewChallenge): Promise<OtpChallenge> {
    const now = this.clock.now();
    const code = newCode();
    const challenge = m.create(OtpChallenge, {
      processId: input.process.id,
      stepId: input.stepId,
      tenantId: input.process.tenantId,
      channel: input.channel,
      generation: 1,
      codeHmac: codeHash(input.process.id, input.stepId, 1, code),
      codeSealed: secretBox().seal(code),
      status: 'sending',
      sentAt: null,
      expiresAt: new Date(now.getTime() + input.ttlMinutes * 60_000),
      verifiedAt: null,
      attempts: 0,
      resends: 0,
      deliveryError: null,
      createdAt: now,
      updatedAt: now,
    });
    await m.upsert(OtpChallenge, challenge, ['processId', 'stepId']);
    await this.enqueueDelivery(m, challenge, input.language, input.ttlMinutes);
    return challenge;
  }

  /** A new code replacing the current one (the caller checked the resends left). */
  async resend(m: EntityManager, challenge: OtpChallenge, ttlMinutes: number, language: string): Promise<void> {
    const now = this.clock.now();
    const code = newCode();
    const generation = challenge.generation + 1;
    Object.assign(challenge, {
      generation,
      codeHmac: codeHash(challenge.processId, challenge.stepId, generation, code),
      codeSealed: secretBox().seal(code),
      status: 'sending',
      sentAt: null,
      expiresAt: new Date(now.getTime() + ttlMinutes * 60_000),
      resends: challenge.resends + 1,
      deliveryError: null,
      updatedAt: now,
    });
    await m.save(OtpChallenge, challenge);
    await this.enqueueDelivery(m, challenge, language, ttlMinutes);
  }

  /** The step's code row, locked for the rest of the engine's transaction. */
  find(m: EntityManager, processId: string, stepId: string): Promise<OtpChallenge | null> {
    return m.findOne(OtpChallenge, { where: { processId, stepId }, lock: { mode: 'pessimistic_write' } });
  }

  /** Checks a typed code; a wrong one counts an attempt, the right one (in time) verifies the challenge. */
  async check(m: EntityManager, challenge: OtpChallenge, typed: string): Promise<CheckResult> {
    const now = this.clock.now();
    const expected = Buffer.from(challenge.codeHmac);
    const matches = codeHashes(challenge.processId, challenge.stepId, challenge.generation, typed).some((h) => {
      const candidate = Buffer.from(h);
      return candidate.length === expected.length && timingSafeEqual(candidate, expected);
    });
    if (matches && challenge.expiresAt.getTime() <= now.getTime()) return { kind: 'expired' };
    if (matches) {
      Object.assign(challenge, { status: 'verified', verifiedAt: now, codeSealed: null, updatedAt: now });
      await m.save(OtpChallenge, challenge);
      return { kind: 'verified' };
    }
    challenge.attempts += 1;
    challenge.updatedAt = now;
    await m.update(OtpChallenge, { processId: challenge.processId, stepId: challenge.stepId }, { attempts: challenge.attempts, updatedAt: now });
    return { kind: 'wrong', attempts: challenge.attempts };
  }

  async fail(m: EntityManager, challenge: OtpChallenge): Promise<void> {
    await m.update(OtpChallenge, { processId: challenge.processId, stepId: challenge.stepId }, { status: 'failed', codeSealed: null, updatedAt: this.clock.now() });
  }

  /** The latest code of each process, whatever its state (its signature page reads whether it was verified). */
  async latestOf(m: EntityManager, processIds: string[]): Promise<Map<string, OtpChallenge>> {
    if (processIds.length === 0) return new Map();
    const rows = await m.find(OtpChallenge, { where: { processId: In(processIds) }, order: { updatedAt: 'ASC' } });
    return new Map(rows.map((r) => [r.processId, r]));
  }

  static state(c: OtpChallenge): OtpState {
    return {
      step_id: c.stepId,
      channel: c.channel,
      status: c.status,
      sent_at: c.sentAt?.toISOString() ?? null,
      expires_at: c.expiresAt.toISOString(),
      verified_at: c.verifiedAt?.toISOString() ?? null,
      attempts: c.attempts,
      resends: c.resends,
    };
  }

  /** Runs the due deliveries once (tests, tools). */
  deliverDue(): Promise<number> {
    return this.jobs.runDue(OTP_DELIVER, 50);
  }

  private async enqueueDelivery(m: EntityManager, c: OtpChallenge, language: string, ttlMinutes: number): Promise<void> {
    await this.jobs.enqueue<OtpDeliverJob>(
      m,
      OTP_DELIVER,
      { processId: c.processId, stepId: c.stepId, generation: c.generation, language, ttlMinutes },
      { key: `${c.processId}:${c.stepId}:${c.generation}` },
    );
  }

  private async deliver(job: OtpDeliverJob): Promise<void> {
    const challenge = await this.ds.manager.findOneBy(OtpChallenge, { processId: job.processId, stepId: job.stepId });
    // Replaced by a resend, verified, or ended meanwhile: nothing to send.
    if (!challenge || challenge.generation !== job.generation || challenge.status !== 'sending' || !challenge.codeSealed) return;
    const process = await this.conversations.whereIs(job.processId, this.ds.manager);
    if (!process || process.status !== 'pending') return;
    const code = secretBox().open(challenge.codeSealed);
    const { ttlMinutes } = job;
    if (challenge.channel === 'sms') {
      const settings = await this.tenants.smsSettings(challenge.tenantId);
      if (!settings) throw new GiveUp('the tenant has no SMS settings (PATCH /v1/settings sms)');
      try {
        await this.sms.send(settings, { tenantId: challenge.tenantId, to: process.phone, body: contractText(job.language, 'otpSms', { code, minutes: ttlMinutes }) });
      } catch (err) {
        await this.recordDeliveryError(challenge, err);
        throw smsJobError(err);
      }
      await this.ds.transaction((m) => this.markSent(m, challenge, ttlMinutes));
      return;
    }
    let template = await this.ds.transaction((m) => this.templates.authenticationTemplate(m, { tenantId: challenge.tenantId, lineId: process.lineId, language: job.language }));
    // A template made just now is submitted at once rather than by its job a minute later.
    if (template.submissionState === 'pending') template = (await this.templates.submit(template.id)) ?? template;
    if (template.status === 'REJECTED' || template.status === 'DISABLED') throw new GiveUp(`the line's authentication template is ${template.status}`);
    if (template.status !== 'APPROVED') throw new RetryLater(TEMPLATE_WAIT_MS, `the line's authentication template is ${template.status}`);
    await this.ds.transaction(async (m) => {
      await this.messages.enqueue(m, {
        tenantId: challenge.tenantId,
        lineId: process.lineId,
        phone: process.phone,
        conversationId: challenge.processId,
        // The queued row keeps the code sealed: the adapter opens it when it builds the request.
        message: { kind: 'template', name: template.name, language: template.language, authCode: { sealed: challenge.codeSealed! } },
      });
      await this.markSent(m, challenge, ttlMinutes);
    });
  }

  /** The code left us: its validity counts from now, and its sealed copy goes. */
  private async markSent(m: EntityManager, challenge: OtpChallenge, ttlMinutes: number): Promise<void> {
    const now = this.clock.now();
    await this.conversations.recordEvidence(m, challenge.processId, [
      {
        type: 'otp.sent',
        payload: {
          step_id: challenge.stepId,
          channel: challenge.channel,
          generation: challenge.generation,
          expires_at: new Date(now.getTime() + ttlMinutes * 60_000).toISOString(),
        },
      },
    ]);
    await m.update(
      OtpChallenge,
      { processId: challenge.processId, stepId: challenge.stepId, generation: challenge.generation, status: 'sending' },
      { status: 'sent', sentAt: now, expiresAt: new Date(now.getTime() + ttlMinutes * 60_000), codeSealed: null, deliveryError: null, updatedAt: now },
    );
  }

  private async recordDeliveryError(challenge: OtpChallenge, err: unknown): Promise<void> {
    await this.ds.manager.update(
      OtpChallenge,
      { processId: challenge.processId, stepId: challenge.stepId, generation: challenge.generation },
      { deliveryError: describe(err).slice(0, 500) },
    );
  }

  /** Delivery gave up: the process ends (otp_undeliverable), telling the person. */
  private async undeliverable(m: EntityManager, job: OtpDeliverJob, error: string): Promise<void> {
    const updated = await m.update(
      OtpChallenge,
      { processId: job.processId, stepId: job.stepId, generation: job.generation },
      { status: 'undeliverable', codeSealed: null, deliveryError: error.slice(0, 500), updatedAt: this.clock.now() },
    );
    if (!updated.affected) return;
    this.logger.warn({ processId: job.processId, stepId: job.stepId, error }, 'a one-time code could not be delivered: the process fails (otp_undeliverable)');
    await this.conversations.resume(m, job.processId, job.stepId, { kind: 'fail', reason: 'otp_undeliverable' }, [
      { kind: 'text', body: contractText(job.language, 'otpUndeliverable') },
    ]);
  }
}

function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

function codeInput(processId: string, stepId: string, generation: number, code: string): string {
  return `otp:${processId}:${stepId}:${generation}:${code.replace(/\D/g, '')}`;
}

function codeHash(processId: string, stepId: string, generation: number, code: string): string {
  return secretBox().lookupHash(codeInput(processId, stepId, generation, code));
}

/** Under every key SECRETS_KEY holds, so a code sent before a key rotation still verifies. */
function codeHashes(processId: string, stepId: string, generation: number, code: string): string[] {
  return secretBox().lookupHashes(codeInput(processId, stepId, generation, code));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
