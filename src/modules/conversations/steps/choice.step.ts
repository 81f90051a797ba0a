import { Injectable } from '@nestjs/common';
import { foldText } from '../../../common/text/fold.js';
import { LIMITS } from '../../flows/flow-definition.js';
import {
  RegisterStepType,
  type StepChecker,
  type StepContext,
  type StepEntry,
  type StepExit,
  type StepOutcome,
  type StepType,
  type UserInput,
} from '../../flows/steps/step-type.js';
import { matchOption } from '../../flows/validators/match-option.js';
import { NEXT } from './common.js';
import { text } from './texts.js';

export interface ChoiceOption {
  id: string;
  title: string;
  next?: string;
}
export interface ChoiceStep {
  id: string;
  type: 'choice';
  next?: string;
  text: string;
  style: 'buttons' | 'list';
  options: ChoiceOption[];
  button_text?: string;
}

/** Reply buttons or a list; the answer is the option id, free text matching a title counts. */
@Injectable()
@RegisterStepType({
  type: 'choice',
  summary: `Reply buttons (at most ${LIMITS.buttons}, titles up to ${LIMITS.buttonTitle} characters) or a list (at most ${LIMITS.listRows} rows, titles up to ${LIMITS.listRowTitle}); each option may branch`,
  schema: {
    properties: {
      next: NEXT,
      text: { type: 'string', maxLength: LIMITS.interactiveText },
      style: { type: 'string', enum: ['buttons', 'list'] },
      options: {
        type: 'array',
        minItems: 1,
        maxItems: LIMITS.listRows,
        items: {
          type: 'object',
          required: ['id', 'title'],
          properties: { id: { type: 'string', maxLength: LIMITS.optionId }, title: { type: 'string', maxLength: LIMITS.listRowTitle }, next: NEXT },
        },
      },
      button_text: { type: 'string', maxLength: LIMITS.listButtonText, description: 'style list only: the button that opens the list' },
    },
    required: ['text', 'style', 'options'],
  },
})
export class ChoiceStepType implements StepType<ChoiceStep> {
  readonly fields = ['next', 'text', 'style', 'options', 'button_text'];

  check(s: Record<string, unknown>, c: StepChecker): void {
    c.text('text', LIMITS.interactiveText);
    c.oneOf('style', ['buttons', 'list']);
    checkOptions(s, c);
    c.text('button_text', LIMITS.listButtonText, true);
    if (s.button_text !== undefined && s.style !== 'list') c.error('button_text', 'button_text applies only to style list');
  }

  /** Each option leads to its own next, else the step's next, else the following step. */
  exits(s: ChoiceStep): StepExit[] {
    return s.options.map((o, j) => ({ field: o.next !== undefined ? `options[${j}].next` : 'next', next: o.next ?? s.next }));
  }

  enter(step: ChoiceStep, ctx: StepContext): StepEntry {
    const options = step.options.map((o) => ({ id: o.id, title: o.title }));
    const send =
      step.style === 'list'
        ? [{ kind: 'list' as const, body: step.text, buttonText: step.button_text ?? text(ctx.language, 'options'), rows: options }]
        : [{ kind: 'buttons' as const, body: step.text, buttons: options }];
    return { send, then: { kind: 'wait' } };
  }

  answer(step: ChoiceStep, input: UserInput, ctx: StepContext): StepOutcome {
    const option = (input.replyId ? step.options.find((o) => o.id === input.replyId) : null) ?? (input.text ? matchOption(input.text, step.options) : null);
    if (!option) return { kind: 'invalid', value: input.replyId ?? input.text, error: 'unknown_option', reply: text(ctx.language, 'choose') };
    return { kind: 'accept', value: option.id, normalized: option.title, next: option.next };
  }
}

function checkOptions(step: Record<string, unknown>, c: StepChecker): void {
  const style = step.style;
  const options = step.options;
  const [most, titleMax, what] = style === 'list' ? [LIMITS.listRows, LIMITS.listRowTitle, 'list rows'] : [LIMITS.buttons, LIMITS.buttonTitle, 'buttons'];
  if (!Array.isArray(options) || options.length === 0) return c.error('options', 'options must be a non-empty array');
  if (options.length > most) c.error('options', `options: WhatsApp allows at most ${most} ${what}, got ${options.length}`);
  const ids = new Set<string>();
  const titles = new Set<string>();
  options.forEach((o: unknown, j) => {
    const at = `options[${j}]`;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return c.error(at, `${at} must be an object with id and title`);
    const option = o as Record<string, unknown>;
    for (const key of Object.keys(option)) if (!['id', 'title', 'next'].includes(key)) c.error(`${at}.${key}`, `${at}.${key} is not a field of an option`);
    c.text(`${at}.id`, LIMITS.optionId);
    c.text(`${at}.title`, titleMax);
    if (option.next !== undefined && typeof option.next !== 'string') c.error(`${at}.next`, `${at}.next must be a step id`);
    if (typeof option.id === 'string') {
      // WhatsApp refuses reply ids with surrounding spaces.
      if (option.id.trim() !== option.id) c.error(`${at}.id`, `${at}.id must not start or end with spaces`);
      if (ids.has(option.id)) c.error(`${at}.id`, `${at}.id '${option.id}' is used by another option`);
      ids.add(option.id);
    }
    if (typeof option.title === 'string') {
      // Free-text answers are matched to titles ignoring case and accents, so those must tell options apart.
      const key = foldText(option.title);
      if (titles.has(key)) c.error(`${at}.title`, `${at}.title '${option.title}' is the same as another option's`);
      titles.add(key);
    }
  });
}
