import { Injectable } from '@nestjs/common';
import type { OutgoingMessage } from '../../../whatsapp/whatsapp.types.js';
import { NEXT, plainExit } from '../../conversations/steps/common.js';
import { LIMITS } from '../../flows/flow-definition.js';
import { RegisterStepType, type StepChecker, type StepContext, type StepEntry, type StepOutcome, type StepType, type UserInput } from '../../flows/steps/step-type.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import type { OtpChannel } from '../entities/otp-challenge.entity.js';
import { OtpService } from '../otp.service.js';
import { contractText, maskPhone } from '../texts.js';

export interface OtpStep {
  id: string;
  type: 'otp';
  next?: string;
  text?: string;
  channel: OtpChannel;
  ttl_minutes?: number;
  max_attempts?: number;
  max_resends?: number;
  resend_keywords?: string[];
}

const DEFAULTS = { ttlMinutes: 10, maxAttempts: 3, maxResends: 1, resendKeywords: ['reenviar', 'resend', 'reenviar código', 'reenviar codigo'] };

/**
 * A six-digit one-time code sent to the person's own number (SMS, or a WhatsApp authentication template), typed back
 * in the chat. The step counts wrong codes itself (over all the codes it sent): at `max_attempts` the process fails
 * with `otp_failed`, as it does when a code expired and no resend is left.
 */
@Injectable()
@RegisterStepType({
  type: 'otp',
  summary:
    'Sends a 6-digit one-time code by SMS or WhatsApp (authentication template) to the person’s number and waits for it to be typed; "reenviar"/"resend" sends a new one while resends remain; wrong codes past max_attempts, or an expired code with no resend left, end the process as failed (otp_failed)',
  schema: {
    properties: {
      next: NEXT,
      text: { type: 'string', maxLength: LIMITS.text, description: 'Sent when the code goes out; default: where it was sent and how to ask for a new one' },
      channel: { type: 'string', enum: ['sms', 'whatsapp'], description: 'sms needs the tenant’s SMS settings (PATCH /v1/settings sms)' },
      ttl_minutes: { type: 'integer', minimum: 1, maximum: 60, default: DEFAULTS.ttlMinutes },
      max_attempts: { type: 'integer', minimum: 1, maximum: LIMITS.maxAttempts, default: DEFAULTS.maxAttempts, description: 'Wrong codes before the process fails (otp_failed)' },
      max_resends: { type: 'integer', minimum: 0, maximum: 5, default: DEFAULTS.maxResends },
      resend_keywords: { type: 'array', items: { type: 'string', maxLength: 40 }, maxItems: 10, description: 'Default: reenviar, resend' },
    },
    required: ['channel'],
  },
})
export class OtpStepType implements StepType<OtpStep> {
  readonly fields = ['next', 'text', 'channel', 'ttl_minutes', 'max_attempts', 'max_resends', 'resend_keywords'];
  readonly secretAnswers = true;

  constructor(
    private readonly otp: OtpService,
    private readonly tenants: TenantsService,
  ) {}

  check(s: Record<string, unknown>, c: StepChecker): void {
    c.text('text', LIMITS.text, true);
    c.oneOf('channel', ['sms', 'whatsapp']);
    c.int('ttl_minutes', 1, 60, true);
    c.int('max_attempts', 1, LIMITS.maxAttempts, true);
    c.int('max_resends', 0, 5, true);
    if (s.resend_keywords !== undefined) {
      const list = s.resend_keywords;
      if (!Array.isArray(list) || list.length === 0 || list.length > 10 || list.some((k) => typeof k !== 'string' || !k.trim() || k.length > 40)) {
        c.error('resend_keywords', 'resend_keywords must be 1 to 10 non-blank strings of at most 40 characters');
      }
    }
  }

  async verify(step: OtpStep, flow: { tenantId: string }) {
    if (step.channel !== 'sms' || (await this.tenants.smsSettings(flow.tenantId))) return [];
    return [{ field: 'channel', message: 'channel sms needs the tenant’s SMS settings: set them with PATCH /v1/settings (sms), or use channel whatsapp' }];
  }

  exits = plainExit;

  async enter(step: OtpStep, ctx: StepContext): Promise<StepEntry> {
    await this.otp.start(ctx.manager, { process: ctx.process, stepId: step.id, channel: step.channel, ttlMinutes: ttl(step), language: ctx.language });
    await ctx.evidence('otp.created', { step_id: step.id, channel: step.channel, generation: 1, ttl_minutes: ttl(step) });
    return { send: this.instructions(step, ctx), then: { kind: 'wait' } };
  }

  reprompt(step: OtpStep, ctx: StepContext): OutgoingMessage[] {
    return this.instructions(step, ctx);
  }

  async answer(step: OtpStep, input: UserInput, ctx: StepContext): Promise<StepOutcome> {
    const challenge = await this.otp.find(ctx.manager, ctx.process.id, step.id);
    if (!challenge) return { kind: 'fail', value: null, reason: 'otp_failed' };
    const typed = (input.text ?? '').trim();
    const resends = challenge.resends < (step.max_resends ?? DEFAULTS.maxResends);
    if ((step.resend_keywords ?? DEFAULTS.resendKeywords).some((k) => k.trim().toLowerCase() === typed.toLowerCase())) {
      if (!resends) return { kind: 'stay', value: 'resend_refused', send: [say(ctx, 'otpNoResends')] };
      await this.otp.resend(ctx.manager, challenge, ttl(step), ctx.language);
      await ctx.evidence('otp.created', { step_id: step.id, channel: challenge.channel, generation: challenge.generation, ttl_minutes: ttl(step) });
      return { kind: 'stay', value: 'resend', send: [say(ctx, 'otpResent')] };
    }
    const digits = typed.replace(/[\s-]/g, '');
    // Anything but six digits is not a guess: it costs no attempt.
    if (!/^\d{6}$/.test(digits)) return { kind: 'stay', value: 'not_a_code', send: this.instructions(step, ctx) };
    // The value recorded as the answer is what happened, never the code.
    const result = await this.otp.check(ctx.manager, challenge, digits);
    if (result.kind === 'verified') {
      await ctx.evidence('otp.verified', { step_id: step.id, channel: challenge.channel, generation: challenge.generation, attempts: challenge.attempts });
      return { kind: 'accept', value: 'verified', normalized: 'verified' };
    }
    if (result.kind === 'expired') {
      if (resends) return { kind: 'stay', value: 'expired', send: [say(ctx, 'otpExpired')] };
      await this.otp.fail(ctx.manager, challenge);
      await ctx.evidence('otp.failed', { step_id: step.id, channel: challenge.channel, reason: 'expired', attempts: challenge.attempts });
      return { kind: 'fail', value: 'expired', reason: 'otp_failed' };
    }
    const left = (step.max_attempts ?? DEFAULTS.maxAttempts) - result.attempts;
    if (left <= 0) {
      await this.otp.fail(ctx.manager, challenge);
      await ctx.evidence('otp.failed', { step_id: step.id, channel: challenge.channel, reason: 'attempts_exhausted', attempts: challenge.attempts });
      return { kind: 'fail', value: 'wrong_code', reason: 'otp_failed' };
    }
    return { kind: 'stay', value: 'wrong_code', send: [say(ctx, 'otpWrong', { left })] };
  }

  private instructions(step: OtpStep, ctx: StepContext): OutgoingMessage[] {
    const channel = step.channel === 'sms' ? contractText(ctx.language, 'bySms', { phone: maskPhone(ctx.process.phone) }) : contractText(ctx.language, 'byWhatsapp');
    return [{ kind: 'text', body: step.text ?? contractText(ctx.language, 'otpAsk', { channel }) }];
  }
}

const ttl = (step: OtpStep) => step.ttl_minutes ?? DEFAULTS.ttlMinutes;
const say = (ctx: StepContext, key: Parameters<typeof contractText>[1], values?: Record<string, string | number>): OutgoingMessage => ({
  kind: 'text',
  body: contractText(ctx.language, key, values),
});
