import { Injectable } from '@nestjs/common';
import { LIMITS } from '../../flows/flow-definition.js';
import { RegisterStepType, type StepChecker, type StepEntry, type StepType } from '../../flows/steps/step-type.js';
import { NEXT, plainExit } from './common.js';

export interface MessageStep {
  id: string;
  type: 'message';
  next?: string;
  text: string;
  media_url?: string;
  media_type?: 'image' | 'document';
  filename?: string;
}

/** Text, optionally with an image or document, sent without waiting. */
@Injectable()
@RegisterStepType({
  type: 'message',
  summary: 'Sends a text, or an image or document with the text as caption, and goes on',
  schema: {
    properties: {
      next: NEXT,
      text: { type: 'string', maxLength: LIMITS.text, description: `At most ${LIMITS.interactiveText} characters with media (a caption)` },
      media_url: { type: 'string', format: 'uri', description: 'https URL of the image or document' },
      media_type: { type: 'string', enum: ['image', 'document'], description: 'Required with media_url' },
      filename: { type: 'string', maxLength: 240, description: 'media_type document only' },
    },
    required: ['text'],
  },
})
export class MessageStepType implements StepType<MessageStep> {
  readonly fields = ['next', 'text', 'media_url', 'media_type', 'filename'];

  check(s: Record<string, unknown>, c: StepChecker): void {
    const hasMedia = s.media_url !== undefined;
    c.text('text', hasMedia ? LIMITS.interactiveText : LIMITS.text);
    c.httpsUrl('media_url', true);
    c.oneOf('media_type', ['image', 'document'], !hasMedia);
    if (!hasMedia && s.media_type !== undefined) c.error('media_type', 'media_type needs a media_url');
    c.text('filename', 240, true);
    if (s.filename !== undefined && s.media_type !== 'document') c.error('filename', 'filename applies only to media_type document');
  }

  exits = plainExit;

  enter(step: MessageStep): StepEntry {
    const send =
      step.media_url && step.media_type
        ? [{ kind: 'media' as const, mediaType: step.media_type, link: step.media_url, caption: step.text, filename: step.filename }]
        : [{ kind: 'text' as const, body: step.text }];
    return { send, then: { kind: 'next' } };
  }
}
