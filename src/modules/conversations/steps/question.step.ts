import { Injectable } from '@nestjs/common';
import { DEFAULT_MAX_ATTEMPTS, LIMITS } from '../../flows/flow-definition.js';
import { RegisterStepType, type StepChecker, type StepContext, type StepOutcome, type StepType, type UserInput } from '../../flows/steps/step-type.js';
import { isSupportedDateFormat, isSupportedRegexFlags, validateAnswer, type AnswerValidator } from '../../flows/validators/answer-validators.js';
import { NATIONAL_ID_COUNTRIES } from '../../flows/validators/national-id.js';
import { patternProblem } from '../../flows/validators/tenant-regex.js';
import { askText, NEXT, plainExit } from './common.js';
import { text } from './texts.js';

export interface QuestionStep {
  id: string;
  type: 'question';
  next?: string;
  text: string;
  validator: AnswerValidator;
  error_text?: string;
  max_attempts?: number;
}

const VALIDATOR_SCHEMA = {
  type: 'object',
  description:
    'text (min_length, max_length) | email | number (min, max) | date (format from YYYY, MM, DD; min, max as YYYY-MM-DD) | ' +
    'regex (pattern in RE2 syntax, flags from imsu) | national_id (country CO, MX or ES)',
  required: ['type'],
  properties: {
    type: { type: 'string', enum: ['text', 'email', 'number', 'date', 'regex', 'national_id'] },
    min_length: { type: 'integer' },
    max_length: { type: 'integer' },
    min: { description: 'number: a number; date: YYYY-MM-DD' },
    max: { description: 'number: a number; date: YYYY-MM-DD' },
    format: { type: 'string', example: 'DD/MM/YYYY' },
    pattern: { type: 'string', maxLength: LIMITS.regexPattern },
    flags: { type: 'string', example: 'i' },
    country: { type: 'string', enum: [...NATIONAL_ID_COUNTRIES] },
  },
};

/** Free text checked by the step's validator. */
@Injectable()
@RegisterStepType({
  type: 'question',
  summary: 'Asks a question and checks the typed answer with its validator',
  schema: {
    properties: {
      next: NEXT,
      text: { type: 'string', maxLength: LIMITS.text },
      validator: VALIDATOR_SCHEMA,
      error_text: { type: 'string', maxLength: LIMITS.text, description: 'Sent when an answer is not valid' },
      max_attempts: {
        type: 'integer',
        minimum: 1,
        maximum: LIMITS.maxAttempts,
        default: DEFAULT_MAX_ATTEMPTS,
        description: 'Invalid answers before the process fails (validation_failed)',
      },
    },
    required: ['text', 'validator'],
  },
})
export class QuestionStepType implements StepType<QuestionStep> {
  readonly fields = ['next', 'text', 'validator', 'error_text', 'max_attempts'];

  check(s: Record<string, unknown>, c: StepChecker): void {
    c.text('text', LIMITS.text);
    checkValidator(s.validator, c);
    c.text('error_text', LIMITS.text, true);
    c.int('max_attempts', 1, LIMITS.maxAttempts, true);
  }

  exits = plainExit;
  enter = askText;

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

const VALIDATOR_FIELDS: Record<AnswerValidator['type'], readonly string[]> = {
  text: ['min_length', 'max_length'],
  email: [],
  number: ['min', 'max'],
  date: ['format', 'min', 'max'],
  regex: ['pattern', 'flags'],
  national_id: ['country'],
};

function checkValidator(v: unknown, c: StepChecker): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return c.error('validator', 'validator must be an object with a type');
  const validator = v as Record<string, unknown>;
  const type = validator.type as AnswerValidator['type'];
  const allowed = Object.hasOwn(VALIDATOR_FIELDS, String(type)) ? VALIDATOR_FIELDS[type] : null;
  if (!allowed) return c.error('validator.type', `validator.type must be one of: ${Object.keys(VALIDATOR_FIELDS).join(', ')}`);
  for (const key of Object.keys(validator)) {
    if (key !== 'type' && !allowed.includes(key)) c.error(`validator.${key}`, `validator.${key} is not a field of a ${type} validator`);
  }
  switch (type) {
    case 'text': {
      c.int('validator.min_length', 0, LIMITS.text, true);
      c.int('validator.max_length', 1, LIMITS.text, true);
      const { min_length: min, max_length: max } = validator;
      if (typeof min === 'number' && typeof max === 'number' && min > max) c.error('validator.min_length', 'validator.min_length must not exceed max_length');
      break;
    }
    case 'number': {
      c.num('validator.min', true);
      c.num('validator.max', true);
      const { min, max } = validator;
      if (typeof min === 'number' && typeof max === 'number' && min > max) c.error('validator.min', 'validator.min must not exceed max');
      break;
    }
    case 'date': {
      if (validator.format !== undefined && (typeof validator.format !== 'string' || !isSupportedDateFormat(validator.format))) {
        c.error('validator.format', 'validator.format must combine YYYY, MM and DD with -, /, . or space, e.g. YYYY-MM-DD or DD/MM/YYYY');
      }
      for (const k of ['min', 'max'] as const) {
        const d = validator[k];
        if (d !== undefined && (typeof d !== 'string' || !isIsoDate(d))) c.error(`validator.${k}`, `validator.${k} must be an ISO date (YYYY-MM-DD)`);
      }
      if (typeof validator.min === 'string' && typeof validator.max === 'string' && validator.min > validator.max) {
        c.error('validator.min', 'validator.min must not be after max');
      }
      break;
    }
    case 'regex': {
      c.text('validator.pattern', LIMITS.regexPattern);
      const flags = validator.flags ?? '';
      if (typeof flags !== 'string' || !isSupportedRegexFlags(flags)) {
        c.error('validator.flags', 'validator.flags may only contain i, m, s and u, each once');
        break;
      }
      if (typeof validator.pattern === 'string' && validator.pattern.length <= LIMITS.regexPattern) {
        const problem = patternProblem(validator.pattern, flags);
        if (problem)
          c.error('validator.pattern', `validator.pattern is not a valid regular expression in RE2 syntax (no backreferences, lookaround or nested repetition): ${problem}`);
      }
      break;
    }
    case 'national_id':
      c.oneOf('validator.country', NATIONAL_ID_COUNTRIES);
      break;
    case 'email':
      break;
  }
}

function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(s + 'T00:00:00Z');
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}
