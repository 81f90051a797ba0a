import type { FlowStep } from '../../flows/flow-definition.js';
import type { InboundMessageEvent, OutgoingMessage } from '../../../whatsapp/whatsapp.types.js';

/** A user's message as a step sees it. */
export interface UserInput {
  type: InboundMessageEvent['type'];
  /** Text, caption, or the title of a tapped button/row. */
  text: string | null;
  /** Id of a tapped button or list row. */
  replyId: string | null;
  messageId: string;
  mediaFileId: string | null;
  mediaMimeType: string | null;
}

export interface StepContext {
  language: string;
}

export type StepOutcome =
  /** The answer is taken; `next` overrides the step's own next (branching). */
  | { kind: 'accept'; value: string | null; normalized?: string | null; next?: string; mediaFileId?: string | null }
  /** Not an acceptable answer: `reply` is sent and the step asked again (up to its attempts). */
  | { kind: 'invalid'; value: string | null; error: string; reply: string }
  /** The answer ends the process as failed. */
  | { kind: 'fail'; value: string | null; reason: string };

/**
 * One class per step type, registered in `STEP_HANDLERS`: the engine prompts with `prompt`, and when `waits`, hands
 * the user's next message to `answer`. New step types (document, otp, signature) are one more handler there.
 */
export interface StepHandler<S extends FlowStep = FlowStep> {
  readonly type: S['type'];
  readonly waits: boolean;
  prompt(step: S, ctx: StepContext): OutgoingMessage[];
  answer(step: S, input: UserInput, ctx: StepContext): StepOutcome;
  /** Invalid answers after which the process fails (`validation_failed`); without it, the step asks again for ever. */
  maxAttempts?(step: S): number;
}
