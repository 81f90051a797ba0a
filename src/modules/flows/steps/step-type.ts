/**
 * The step-type registry's contract. A step type is one class that owns its definition (fields, checks, exits, JSON
 * schema) and its behaviour in the engine (what entering the step sends, how it takes an answer). The module that
 * owns it provides it and marks it with `@RegisterStepType(...)`; `StepTypes` discovers every such provider at start.
 * Neither this module nor the engine knows any step type by name.
 */
import { DiscoveryService } from '@nestjs/core';
import type { EntityManager } from 'typeorm';
import type { InboundMessageEvent, OutgoingMessage } from '../../../whatsapp/whatsapp.types.js';

/** Every step has an id and a type; the rest is the type's own. */
export interface StepDefinition {
  /** Unique within the flow; answers and branches refer to it. */
  id: string;
  type: string;
  /** Step to go to next; when absent, the following step in the list. */
  next?: string;
}

/** Reports problems with one field of the step being checked (paths are relative to the step). */
export interface StepChecker {
  error(field: string, message: string): void;
  /** Required (unless `optional`) non-blank string of at most `max` characters. */
  text(field: string, max: number, optional?: boolean): void;
  oneOf(field: string, values: readonly string[], optional?: boolean): void;
  int(field: string, min: number, max: number, optional?: boolean): void;
  num(field: string, optional?: boolean): void;
  httpsUrl(field: string, optional?: boolean): void;
}

/** A way out of a step on a normal path. `next` absent: the following step in the list. */
export interface StepExit {
  field: string;
  next?: string;
}

/** The process a step runs in, as a step type may see it. */
export interface StepProcess {
  id: string;
  tenantId: string;
  lineId: string;
  /** The user's number, E.164. */
  phone: string;
  flowId: string;
  flowVersion: number;
  /** What started it: an inbound message, or an outbound invitation (`originId` is then the send's id). */
  origin: string;
  originId: string | null;
}

/** Where a step runs: inside the engine's transaction (`manager`), for one process. */
export interface StepContext {
  language: string;
  manager: EntityManager;
  process: StepProcess;
  now: Date;
  /** The steps of the process's flow version. */
  steps: readonly StepDefinition[];
  /** Records what the step did in the process's evidence log (in the engine's transaction): ids, hashes, states. */
  evidence(type: string, payload: Record<string, unknown>): Promise<void>;
}

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

/** What entering a step does: what it sends, then whether the process waits for an answer, goes on, or ends. */
export interface StepEntry {
  send: OutgoingMessage[];
  then:
    | { kind: 'wait'; /** false: no follow-up while it waits (the wait is for the service, not the user). */ followUp?: boolean }
    | { kind: 'next' }
    | { kind: 'finish'; status: 'succeeded' | 'failed'; reason: string | null };
}

export type StepOutcome =
  /** The answer is taken; `next` overrides the step's own next (branching). */
  | { kind: 'accept'; value: string | null; normalized?: string | null; next?: string; mediaFileId?: string | null }
  /** Not an acceptable answer: `reply` is sent and the step asked again (up to its attempts). */
  | { kind: 'invalid'; value: string | null; error: string; reply: string }
  /** The step keeps waiting, no attempt counted (e.g. "send me a new code"): `send` goes out. */
  | { kind: 'stay'; value: string | null; send: OutgoingMessage[] }
  /** The answer ends the process as failed. */
  | { kind: 'fail'; value: string | null; reason: string };

type MaybePromise<T> = T | Promise<T>;

export interface StepType<S extends StepDefinition = StepDefinition> {
  /** Fields the step may have besides `id` and `type` (anything else is refused). */
  readonly fields: readonly string[];
  /** Checks a step's own fields (the graph is checked by the flows module from `exits`). */
  check(step: Record<string, unknown>, c: StepChecker): void;
  /** Where the step can lead on normal paths; `[]` for a step that finishes the process. */
  exits(step: S): StepExit[];
  enter(step: S, ctx: StepContext): MaybePromise<StepEntry>;
  /** Asking again (after an invalid answer, or a "yes" to a follow-up); by default what `enter` sends. */
  reprompt?(step: S, ctx: StepContext): MaybePromise<OutgoingMessage[]>;
  /** The user's answer to a step whose `enter` waits. */
  answer?(step: S, input: UserInput, ctx: StepContext): MaybePromise<StepOutcome>;
  /** Invalid answers after which the process fails (`validation_failed`); without it, the step asks again for ever. */
  maxAttempts?(step: S): number;
  /** Answers to it are secrets (a one-time code): the evidence log records the message without its text. */
  readonly secretAnswers?: boolean;
  /**
   * Checks that need the tenant's data (a document that must exist, a provider that must be set up), run after the
   * shape and graph checks pass, when a flow version is saved; `steps` is the whole flow. Fields are relative to the
   * step, as in `check`.
   */
  verify?(step: S, flow: { tenantId: string; steps: StepDefinition[] }): Promise<Array<{ field: string; message: string }>>;
}

export interface StepTypeMeta {
  /** The `type` of the steps it runs. */
  type: string;
  /** One line for the docs. */
  summary: string;
  /** JSON schema (OpenAPI 3) of the step's fields besides `id` and `type`; `required` lists the mandatory ones. */
  schema: { properties: Record<string, object>; required?: string[] };
}

/** Marks a provider as a step type; `StepTypes` finds it. The metadata also documents it in openapi.json. */
export const RegisterStepType = DiscoveryService.createDecorator<StepTypeMeta>();
