import type { ChoiceStep, ConsentStep, EndStep, MediaStep, MessageStep, QuestionStep } from '../../flows/flow-definition.js';
import { DEFAULT_MAX_ATTEMPTS } from '../../flows/flow-definition.js';
import { matchOption } from '../../flows/validators/match-option.js';
import { validateAnswer } from '../../flows/validators/answer-validators.js';
import type { OutgoingMessage } from '../../../whatsapp/whatsapp.types.js';
import type { StepContext, StepHandler, StepOutcome, UserInput } from './step-handler.js';
import { text } from './texts.js';

/** The step's text as one message. */
const textPrompt = (step: { text: string }): OutgoingMessage[] => [{ kind: 'text', body: step.text }];

const noAnswer = (): StepOutcome => {
  throw new Error('this step does not wait for an answer');
};

/** Text, optionally with an image or document, sent without waiting. */
export class MessageStepHandler implements StepHandler<MessageStep> {
  readonly type = 'message';
  readonly waits = false;
  prompt(step: MessageStep): OutgoingMessage[] {
    if (step.media_url && step.media_type) {
      return [{ kind: 'media', mediaType: step.media_type, link: step.media_url, caption: step.text, filename: step.filename }];
    }
    return [{ kind: 'text', body: step.text }];
  }
  answer = noAnswer;
}

/** Free text checked by the step's validator. */
export class QuestionStepHandler implements StepHandler<QuestionStep> {
  readonly type = 'question';
  readonly waits = true;
  prompt = textPrompt;
  answer(step: QuestionStep, input: UserInput, ctx: StepContext): StepOutcome {
    const value = input.text;
    if (value === null || value.trim() === '') return { kind: 'invalid', value, error: 'not_text', reply: step.error_text ?? text(ctx.language, 'invalid') };
    const result = validateAnswer(value, step.validator);
    if (!result.valid) return { kind: 'invalid', value, error: result.error ?? 'invalid', reply: step.error_text ?? text(ctx.language, 'invalid') };
    return { kind: 'accept', value, normalized: result.normalized ?? value };
  }
  maxAttempts(step: QuestionStep): number {
    return step.max_attempts ?? DEFAULT_MAX_ATTEMPTS;
  }
}

/** Reply buttons or a list; the answer is the option id, free text matching a title counts. */
export class ChoiceStepHandler implements StepHandler<ChoiceStep> {
  readonly type = 'choice';
  readonly waits = true;
  prompt(step: ChoiceStep, ctx: StepContext): OutgoingMessage[] {
    const options = step.options.map((o) => ({ id: o.id, title: o.title }));
    return step.style === 'list'
      ? [{ kind: 'list', body: step.text, buttonText: step.button_text ?? text(ctx.language, 'options'), rows: options }]
      : [{ kind: 'buttons', body: step.text, buttons: options }];
  }
  answer(step: ChoiceStep, input: UserInput, ctx: StepContext): StepOutcome {
    const option = (input.replyId ? step.options.find((o) => o.id === input.replyId) : null) ?? (input.text ? matchOption(input.text, step.options) : null);
    if (!option) return { kind: 'invalid', value: input.replyId ?? input.text, error: 'unknown_option', reply: text(ctx.language, 'choose') };
    return { kind: 'accept', value: option.id, normalized: option.title, next: option.next };
  }
}

/** Asks for an image or a document; the file is kept with its SHA-256 by the messages module. */
export class MediaStepHandler implements StepHandler<MediaStep> {
  readonly type = 'media';
  readonly waits = true;
  prompt = textPrompt;
  answer(step: MediaStep, input: UserInput, ctx: StepContext): StepOutcome {
    const kind = input.type === 'image' ? 'image' : input.type === 'document' ? 'document' : null;
    if (!kind || !step.accept.includes(kind) || !input.mediaFileId) {
      return { kind: 'invalid', value: input.text, error: 'wrong_media_type', reply: step.error_text ?? text(ctx.language, 'media') };
    }
    return { kind: 'accept', value: input.mediaFileId, normalized: input.mediaMimeType, mediaFileId: input.mediaFileId };
  }
}

export const CONSENT_ACCEPT = 'consent:accept';
export const CONSENT_DECLINE = 'consent:decline';

/** A statement with accept / decline buttons; declining fails the process. */
export class ConsentStepHandler implements StepHandler<ConsentStep> {
  readonly type = 'consent';
  readonly waits = true;
  prompt(step: ConsentStep, ctx: StepContext): OutgoingMessage[] {
    return [{ kind: 'buttons', body: step.text, buttons: this.options(step, ctx) }];
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

/** Finishes the process with its outcome and closing text. */
export class EndStepHandler implements StepHandler<EndStep> {
  readonly type = 'end';
  readonly waits = false;
  prompt = textPrompt;
  answer = noAnswer;
}
