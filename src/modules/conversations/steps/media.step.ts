import { Injectable } from '@nestjs/common';
import { LIMITS } from '../../flows/flow-definition.js';
import { RegisterStepType, type StepChecker, type StepContext, type StepOutcome, type StepType, type UserInput } from '../../flows/steps/step-type.js';
import { askText, NEXT, plainExit } from './common.js';
import { text } from './texts.js';

export interface MediaStep {
  id: string;
  type: 'media';
  next?: string;
  text: string;
  accept: Array<'image' | 'document'>;
  error_text?: string;
}

/** Asks for an image or a document; the file is kept with its SHA-256 by the messages module. */
@Injectable()
@RegisterStepType({
  type: 'media',
  summary: 'Asks for an image or a document; the file is downloaded and kept with its SHA-256',
  schema: {
    properties: {
      next: NEXT,
      text: { type: 'string', maxLength: LIMITS.text },
      accept: { type: 'array', minItems: 1, items: { type: 'string', enum: ['image', 'document'] }, uniqueItems: true },
      error_text: { type: 'string', maxLength: LIMITS.text, description: 'Sent when the answer is not an accepted file' },
    },
    required: ['text', 'accept'],
  },
})
export class MediaStepType implements StepType<MediaStep> {
  readonly fields = ['next', 'text', 'accept', 'error_text'];

  check(s: Record<string, unknown>, c: StepChecker): void {
    c.text('text', LIMITS.text);
    const accept = s.accept;
    if (!Array.isArray(accept) || accept.length === 0 || accept.some((a) => a !== 'image' && a !== 'document')) {
      c.error('accept', 'accept must be a non-empty array of: image, document');
    } else if (new Set(accept).size !== accept.length) c.error('accept', 'accept must not repeat a type');
    c.text('error_text', LIMITS.text, true);
  }

  exits = plainExit;
  enter = askText;

  answer(step: MediaStep, input: UserInput, ctx: StepContext): StepOutcome {
    const kind = input.type === 'image' ? 'image' : input.type === 'document' ? 'document' : null;
    if (!kind || !step.accept.includes(kind) || !input.mediaFileId) {
      return { kind: 'invalid', value: input.text, error: 'wrong_media_type', reply: step.error_text ?? text(ctx.language, 'media') };
    }
    return { kind: 'accept', value: input.mediaFileId, normalized: input.mediaMimeType, mediaFileId: input.mediaFileId };
  }
}
