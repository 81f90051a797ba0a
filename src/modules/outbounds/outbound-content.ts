import type { OutboundCategory, OutboundOption } from './entities/outbound.entity.js';
import { OPTION_ACTIONS } from './entities/outbound.entity.js';
import type { TemplateCategory } from '../../whatsapp/whatsapp.types.js';
import type { FieldError } from '../../common/errors/app-error.js';

export const LIMITS = { content: 1024, options: 3, optionText: 20, param: 1024 } as const;

const PARAM = /\{\{\s*(\d+)\s*\}\}|\{(\d+)\}/g;

/** Meta takes only these three categories now; the documented legacy ones are utility messages. */
export function providerCategory(category: OutboundCategory): TemplateCategory {
  return category === 'MARKETING' || category === 'AUTHENTICATION' ? category : 'UTILITY';
}

/**
 * The content with every `{n}` / `{{n}}` written `{{n}}`, the parameter count, and what is wrong with it (Meta's
 * rules: numbers 1..n without gaps, no named parameters, not starting or ending with a parameter, ≤ 1,024 characters).
 */
export function parseContent(content: string): { body: string; paramCount: number; problems: string[] } {
  const problems: string[] = [];
  const numbers: number[] = [];
  const body = content.replace(PARAM, (_m, a: string | undefined, b: string | undefined) => {
    const n = Number(a ?? b);
    numbers.push(n);
    return `{{${n}}}`;
  });
  if (/\{\{\s*[^}\d\s][^}]*\}\}/.test(body)) problems.push('content parameters must be numbers, e.g. {1} or {{1}}');
  const distinct = [...new Set(numbers)].sort((x, y) => x - y);
  if (distinct.some((n, i) => n !== i + 1)) problems.push(`content parameters must be numbered 1..n without gaps, got ${distinct.join(', ')}`);
  if (/^\s*\{\{\d+\}\}/.test(body) || /\{\{\d+\}\}\s*$/.test(body)) {
    problems.push('content may not start or end with a parameter (WhatsApp refuses such templates)');
  }
  if ([...body].length > LIMITS.content) problems.push(`content must be at most ${LIMITS.content} characters with parameters written {{n}}`);
  return { body, paramCount: distinct.length, problems };
}

/** Comma-separated values; empty input is no values. */
export function splitParams(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((v) => v.trim());
}

/** What WhatsApp refuses in a body parameter value (and in template examples). */
export function paramProblem(value: string): string | null {
  if (value.length === 0) return 'values may not be empty';
  if (/[\n\t]/.test(value)) return 'values may not contain new lines or tabs';
  if (/ {5,}/.test(value)) return 'values may not contain more than 4 consecutive spaces';
  if ([...value].length > LIMITS.param) return `values may be at most ${LIMITS.param} characters`;
  return null;
}

export function optionsProblems(value: unknown): string[] {
  if (!Array.isArray(value)) return ['options must be a JSON array such as [{"message":"Sí","action":"continue_process"}]'];
  const problems: string[] = [];
  if (value.length === 0 || value.length > LIMITS.options) problems.push(`options must have 1 to ${LIMITS.options} items`);
  value.forEach((o: unknown, i) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return problems.push(`options[${i}] must be an object with message and action`);
    const { message, action, ...rest } = o as Record<string, unknown>;
    if (Object.keys(rest).length) problems.push(`options[${i}] has unknown fields: ${Object.keys(rest).join(', ')}`);
    if (typeof message !== 'string' || message.trim().length === 0) problems.push(`options[${i}].message must be a non-empty string`);
    else if ([...message.trim()].length > LIMITS.optionText) problems.push(`options[${i}].message must be at most ${LIMITS.optionText} characters`);
    if (!(OPTION_ACTIONS as readonly unknown[]).includes(action)) problems.push(`options[${i}].action must be one of: ${OPTION_ACTIONS.join(', ')}`);
  });
  const items = value as Array<Partial<OutboundOption>>;
  if (items.filter((o) => o?.action === 'continue_process').length !== 1) problems.push('options must have exactly one continue_process');
  const texts = items.map((o) => (typeof o?.message === 'string' ? o.message.trim() : ''));
  if (new Set(texts).size !== texts.length) problems.push('options messages must be different from each other');
  return problems;
}

/**
 * A LOCATION template's header needs coordinates at send time; the documented API only has `media_url`, so a
 * location outbound's media_url is a maps link carrying them (`…?q=4.6097,-74.0817` or `…/@4.6097,-74.0817,15z`).
 */
export function coordinatesOf(url: string): { latitude: number; longitude: number } | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(url);
  } catch {
    return null; // malformed percent-encoding: not a usable maps link
  }
  const m = /[?&](?:q|query|ll)=(-?\d{1,2}(?:\.\d+)?),\s*(-?\d{1,3}(?:\.\d+)?)/.exec(decoded) ?? /@(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)/.exec(url);
  if (!m) return null;
  const latitude = Number(m[1]);
  const longitude = Number(m[2]);
  return Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180 ? { latitude, longitude } : null;
}

export function isHttpsUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' && u.hostname.length > 0;
  } catch {
    return false;
  }
}

/** Stop/start keyword matching: case-, accent- and punctuation-insensitive, whole message. */
export function normaliseKeyword(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const LANGUAGE = /^[a-z]{2,3}(_[A-Z]{2})?$/;

/** The fields of a new outbound that `createOutboundProblems` reads (any type: it also runs on bodies that failed). */
export interface OutboundContentInput {
  content?: unknown;
  language_code?: unknown;
  template_type?: unknown;
  media_url?: unknown;
  is_notification?: unknown;
  options?: unknown;
  example_params?: unknown;
}

/**
 * Every content problem of a new outbound that needs no database: checked with the DTO's own rules (so one answer
 * names them all) and again by the service. A field of the wrong type is left to the DTO's messages.
 */
export function createOutboundProblems(dto: OutboundContentInput): FieldError[] {
  const problems = new Map<string, string[]>();
  const add = (field: string, message: string) => problems.set(field, [...(problems.get(field) ?? []), message]);
  const parsed = typeof dto.content === 'string' ? parseContent(dto.content) : null;
  parsed?.problems.forEach((p) => add('content', p));
  if (typeof dto.language_code === 'string' && !LANGUAGE.test(dto.language_code))
    add('language_code', 'language_code must be a WhatsApp language code such as es, es_MX, en or pt_BR');

  const mediaUrl = typeof dto.media_url === 'string' && dto.media_url ? dto.media_url : null;
  if (dto.template_type === 'TEXT') {
    if (mediaUrl) add('media_url', 'media_url only applies when template_type is not TEXT');
  } else if (typeof dto.template_type === 'string' && dto.template_type) {
    if (!mediaUrl) add('media_url', `media_url is required when template_type is ${dto.template_type}`);
    else if (!isHttpsUrl(mediaUrl)) add('media_url', 'media_url must be an absolute https URL');
    else if (dto.template_type === 'LOCATION' && !coordinatesOf(mediaUrl)) {
      add('media_url', 'for LOCATION, media_url must be a maps link with coordinates, e.g. https://maps.google.com/?q=4.6097,-74.0817');
    }
  }

  const hasOptions = dto.options !== undefined && dto.options !== '';
  if (dto.is_notification === false) {
    if (!hasOptions) add('options', 'options are required when is_notification is false');
    else optionsProblems(dto.options).forEach((p) => add('options', p));
  } else if (dto.is_notification === true && hasOptions) {
    add('options', 'options only apply when is_notification is false (a flow invitation)');
  } else if (hasOptions && !Array.isArray(dto.options)) {
    add('options', optionsProblems(dto.options)[0]);
  }

  if (parsed && (dto.example_params === undefined || typeof dto.example_params === 'string')) {
    const examples = splitParams(dto.example_params);
    if (parsed.paramCount > 0 && examples.length === 0) add('example_params', `example_params is required: the content has ${parsed.paramCount} parameter(s)`);
    else if (examples.length !== parsed.paramCount) {
      add('example_params', `example_params must have ${parsed.paramCount} comma-separated value(s), one per parameter, got ${examples.length}`);
    } else {
      const problem = examples.map(paramProblem).find(Boolean);
      if (problem) add('example_params', `example_params ${problem}`);
    }
  }
  return [...problems].map(([field, messages]) => ({ field, messages }));
}
