/**
 * What a flow is made of: step definitions, their per-type rules, and settings. Pure (no Nest, no database) so the
 * engine, the API and the tests share one source of truth.
 *
 * Extension point: a new step type (the signature issue's `document`, `otp`, `signature`) is one interface added to
 * `FlowStep` and one entry in `STEP_SPECS`; the compiler refuses a type without a spec. The flow graph checks
 * (`flow-validation.ts`) work from the specs' `exits`, so they need no change.
 */
import { foldText } from '../../common/text/fold.js';
import { isSupportedDateFormat, isSupportedRegexFlags, type AnswerValidator } from './validators/answer-validators.js';
import { patternProblem } from './validators/tenant-regex.js';
import { NATIONAL_ID_COUNTRIES } from './validators/national-id.js';

interface StepBase {
  /** Unique within the flow; answers and branches refer to it. */
  id: string;
  /** Step to go to next; when absent, the following step in the list. */
  next?: string;
}

export interface MessageStep extends StepBase {
  type: 'message';
  text: string;
  media_url?: string;
  media_type?: 'image' | 'document';
  filename?: string;
}
export interface QuestionStep extends StepBase {
  type: 'question';
  text: string;
  validator: AnswerValidator;
  error_text?: string;
  max_attempts?: number;
}
export interface ChoiceOption {
  id: string;
  title: string;
  next?: string;
}
export interface ChoiceStep extends StepBase {
  type: 'choice';
  text: string;
  style: 'buttons' | 'list';
  options: ChoiceOption[];
  button_text?: string;
}
export interface MediaStep extends StepBase {
  type: 'media';
  text: string;
  accept: Array<'image' | 'document'>;
  error_text?: string;
}
export interface ConsentStep extends StepBase {
  type: 'consent';
  text: string;
  accept_title?: string;
  decline_title?: string;
}
export interface EndStep {
  id: string;
  type: 'end';
  outcome: 'succeeded' | 'failed';
  text: string;
  failure_reason?: string;
}

export type FlowStep = MessageStep | QuestionStep | ChoiceStep | MediaStep | ConsentStep | EndStep;
export type StepType = FlowStep['type'];

export interface FlowSettings {
  expiration_minutes: number;
  language: string;
  enable_follow_up: boolean;
  follow_up_delay: number;
  follow_up_message: string;
  /** `HH:MM`, UTC. */
  start_business_hours: string;
  /** `HH:MM`, UTC. */
  end_business_hours: string;
}

/** One immutable version of a flow, as stored in `flow_versions.definition`. */
export interface FlowDefinition {
  name: string;
  steps: FlowStep[];
  settings: FlowSettings;
}

export const DEFAULT_FLOW_SETTINGS: Readonly<FlowSettings> = {
  expiration_minutes: 1440,
  language: 'es',
  enable_follow_up: false,
  follow_up_delay: 120,
  follow_up_message: 'Tienes un proceso activo en curso',
  start_business_hours: '13:00',
  end_business_hours: '00:00',
};

/** Limits, most of them WhatsApp's (interactive messages: Cloud API reference). */
export const LIMITS = {
  steps: 100,
  stepId: 64,
  text: 4096,
  /** Body of interactive messages (buttons, lists) and media captions. */
  interactiveText: 1024,
  buttons: 3,
  buttonTitle: 20,
  listRows: 10,
  listRowTitle: 24,
  listButtonText: 20,
  optionId: 200,
  regexPattern: 500,
  maxAttempts: 10,
} as const;

export const DEFAULT_MAX_ATTEMPTS = 3;
export const STEP_ID = /^[A-Za-z0-9_-]+$/;
export const FAILURE_REASON = /^[a-z][a-z0-9_]{0,63}$/;

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

export interface StepSpec<S extends FlowStep = FlowStep> {
  /** Fields the step may have besides `id` and `type` (anything else is rejected). */
  fields: readonly string[];
  check(step: Record<string, unknown>, c: StepChecker): void;
  /** Where the step can lead; `[]` for a step that finishes the process. */
  exits(step: S): StepExit[];
}

const plainExit = (s: { next?: string }): StepExit[] => [{ field: 'next', next: s.next }];

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
        if (problem) c.error('validator.pattern', `validator.pattern is not a valid regular expression in RE2 syntax (no backreferences, lookaround or nested repetition): ${problem}`);
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

function checkOptions(step: Record<string, unknown>, c: StepChecker): void {
  const style = step.style;
  const options = step.options;
  const [most, titleMax, what] =
    style === 'list' ? [LIMITS.listRows, LIMITS.listRowTitle, 'list rows'] : [LIMITS.buttons, LIMITS.buttonTitle, 'buttons'];
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

/** The one registry of step types. */
export const STEP_SPECS: { [K in StepType]: StepSpec<Extract<FlowStep, { type: K }>> } = {
  message: {
    fields: ['next', 'text', 'media_url', 'media_type', 'filename'],
    check(s, c) {
      const hasMedia = s.media_url !== undefined;
      c.text('text', hasMedia ? LIMITS.interactiveText : LIMITS.text);
      c.httpsUrl('media_url', true);
      c.oneOf('media_type', ['image', 'document'], !hasMedia);
      if (!hasMedia && s.media_type !== undefined) c.error('media_type', 'media_type needs a media_url');
      c.text('filename', 240, true);
      if (s.filename !== undefined && s.media_type !== 'document') c.error('filename', 'filename applies only to media_type document');
    },
    exits: plainExit,
  },
  question: {
    fields: ['next', 'text', 'validator', 'error_text', 'max_attempts'],
    check(s, c) {
      c.text('text', LIMITS.text);
      checkValidator(s.validator, c);
      c.text('error_text', LIMITS.text, true);
      c.int('max_attempts', 1, LIMITS.maxAttempts, true);
    },
    exits: plainExit,
  },
  choice: {
    fields: ['next', 'text', 'style', 'options', 'button_text'],
    check(s, c) {
      c.text('text', LIMITS.interactiveText);
      c.oneOf('style', ['buttons', 'list']);
      checkOptions(s, c);
      c.text('button_text', LIMITS.listButtonText, true);
      if (s.button_text !== undefined && s.style !== 'list') c.error('button_text', 'button_text applies only to style list');
    },
    // Each option leads to its own next, else the step's next, else the following step.
    exits: (s) => s.options.map((o, j) => ({ field: o.next !== undefined ? `options[${j}].next` : 'next', next: o.next ?? s.next })),
  },
  media: {
    fields: ['next', 'text', 'accept', 'error_text'],
    check(s, c) {
      c.text('text', LIMITS.text);
      const accept = s.accept;
      if (!Array.isArray(accept) || accept.length === 0 || accept.some((a) => a !== 'image' && a !== 'document')) {
        c.error('accept', 'accept must be a non-empty array of: image, document');
      } else if (new Set(accept).size !== accept.length) c.error('accept', 'accept must not repeat a type');
      c.text('error_text', LIMITS.text, true);
    },
    exits: plainExit,
  },
  consent: {
    fields: ['next', 'text', 'accept_title', 'decline_title'],
    check(s, c) {
      c.text('text', LIMITS.interactiveText);
      c.text('accept_title', LIMITS.buttonTitle, true);
      c.text('decline_title', LIMITS.buttonTitle, true);
      if (typeof s.accept_title === 'string' && s.accept_title.trim().toLowerCase() === String(s.decline_title ?? '').trim().toLowerCase()) {
        c.error('decline_title', 'decline_title must differ from accept_title');
      }
    },
    // Declining ends the process as failed (consent_declined); only accepting continues the flow.
    exits: plainExit,
  },
  end: {
    fields: ['outcome', 'text', 'failure_reason'],
    check(s, c) {
      c.oneOf('outcome', ['succeeded', 'failed']);
      c.text('text', LIMITS.text);
      if (s.failure_reason !== undefined) {
        if (s.outcome !== 'failed') c.error('failure_reason', 'failure_reason applies only to outcome failed');
        else if (typeof s.failure_reason !== 'string' || !FAILURE_REASON.test(s.failure_reason)) {
          c.error('failure_reason', 'failure_reason must be snake_case, at most 64 characters (e.g. not_eligible)');
        }
      }
    },
    exits: () => [],
  },
};

export const STEP_TYPES = Object.keys(STEP_SPECS) as StepType[];
