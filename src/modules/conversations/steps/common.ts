import type { OutgoingMessage } from '../../../whatsapp/whatsapp.types.js';
import type { StepEntry, StepExit } from '../../flows/steps/step-type.js';

/** The step's text as one message. */
export const textPrompt = (step: { text: string }): OutgoingMessage[] => [{ kind: 'text', body: step.text }];

/** Sends the step's text and waits for the answer. */
export const askText = (step: { text: string }): StepEntry => ({ send: textPrompt(step), then: { kind: 'wait' } });

export const plainExit = (s: { next?: string }): StepExit[] => [{ field: 'next', next: s.next }];

/** JSON schema of `next`, which every step but `end` has. */
export const NEXT = { type: 'string', description: 'Step to go to next; when absent, the following step' } as const;
