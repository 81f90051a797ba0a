import { Injectable } from '@nestjs/common';
import { LIMITS } from '../../flows/flow-definition.js';
import { RegisterStepType, type StepChecker, type StepContext, type StepEntry, type StepOutcome, type StepType, type UserInput } from '../../flows/steps/step-type.js';
import { matchOption } from '../../flows/validators/match-option.js';
import { NEXT, plainExit } from './common.js';
import { text } from './texts.js';

export interface ConsentStep {
  id: string;
  type: 'consent';
  next?: string;
  text: string;
  accept_title?: string;
  decline_title?: string;
}

export const CONSENT_ACCEPT = 'consent:accept';
export const CONSENT_DECLINE = 'consent:decline';

/** A statement with accept / decline buttons; declining fails the process. */
@Injectable()
@RegisterStepType({
  type: 'consent',
  summary: 'A statement with accept and decline buttons; declining ends the process as failed (consent_declined)',
  schema: {
    properties: {
      next: NEXT,
      text: { type: 'string', maxLength: LIMITS.interactiveText },
      accept_title: { type: 'string', maxLength: LIMITS.buttonTitle, description: 'Default: Acepto / I accept / Aceito' },
      decline_title: { type: 'string', maxLength: LIMITS.buttonTitle, description: 'Default: No acepto / I decline / Não aceito' },
    },
    required: ['text'],
  },
})
export class ConsentStepType implements StepType<ConsentStep> {
  readonly fields = ['next', 'text', 'accept_title', 'decline_title'];

  check(s: Record<string, unknown>, c: StepChecker): void {
    c.text('text', LIMITS.interactiveText);
    c.text('accept_title', LIMITS.buttonTitle, true);
    c.text('decline_title', LIMITS.buttonTitle, true);
    if (
      typeof s.accept_title === 'string' &&
      s.accept_title.trim().toLowerCase() ===
        String(s.decline_title ?? '')
          .trim()
          .toLowerCase()
    ) {
      c.error('decline_title', 'decline_title must differ from accept_title');
    }
  }

  // Declining ends the process as failed (consent_declined); only accepting continues the flow.
  exits = plainExit;

  enter(step: ConsentStep, ctx: StepContext): StepEntry {
    return { send: [{ kind: 'buttons', body: step.text, buttons: this.options(step, ctx) }], then: { kind: 'wait' } };
  }

  answer(step: ConsentStep, input: UserInput, ctx: StepContext): StepOutcome {
    const options = this.options(step, ctx);
    const option = (input.replyId ? options.find((o) => o.id === input.replyId) : null) ?? (input.text ? matchOption(input.text, options) : null);
    if (!option) return { kind: 'invalid', value: input.replyId ?? input.text, error: 'unknown_option', reply: text(ctx.language, 'choose') };
    if (option.id === CONSENT_DECLINE) return { kind: 'fail', value: 'declined', reason: 'consent_declined' };
    return { kind: 'accept', value: 'accepted', normalized: option.title };
  }

  private options(step: ConsentStep, ctx: StepContext) {
    return [
      { id: CONSENT_ACCEPT, title: step.accept_title ?? text(ctx.language, 'accept') },
      { id: CONSENT_DECLINE, title: step.decline_title ?? text(ctx.language, 'decline') },
    ];
  }
}
