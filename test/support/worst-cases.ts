import { toE164, toMobileE164 } from '../../src/common/phone/phone.js';
import { foldText } from '../../src/common/text/fold.js';
import { trimTrailing } from '../../src/common/text/trim.js';
import { normaliseKeyword } from '../../src/modules/outbounds/outbound-content.js';
import { MAX_ANSWER_LENGTH, validateAnswer, type AnswerValidator } from '../../src/modules/flows/validators/answer-validators.js';
import { matchOption, normalizeForMatch } from '../../src/modules/flows/validators/match-option.js';
import { compilePattern } from '../../src/modules/flows/validators/tenant-regex.js';
import { parseCloudWebhook, routingKeys } from '../../src/whatsapp/cloud-api/webhook-parser.js';

/**
 * The worst inputs known for every place where user or tenant input meets a regular expression or a parser: the
 * validators at the answer cap, option and keyword matching at 64 KB (16 times the ingress cap), phone parsing at the
 * 1 MB body limit, a webhook body of 1 MB. `npm run bench -- validators` times them; validators.spec.ts checks each stays far below a blocking time.
 */
const MB = 1_048_576;
/** Inbound texts are cut to 4,096 characters at ingress; 64 KB here leaves room (it took 2.3 s when matching was quadratic). */
const KB64 = 65_536;
const answer = (unit: string) => unit.repeat(Math.ceil(MAX_ANSWER_LENGTH / unit.length)).slice(0, MAX_ANSWER_LENGTH);
const validate = (validator: AnswerValidator, unit: string) => () => validateAnswer(answer(unit), validator);
/** Random letters of `alphabet`, the same for every run. */
function letters(n: number, alphabet: string): string {
  let seed = 42;
  let s = '';
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    s += alphabet[seed % alphabet.length];
  }
  return s;
}
const bigPattern = '[ab]*a[ab]{995}[ab]{995}';
/** Random a/b as long as the pattern's answer cap lets through (longer is refused as too_long without matching). */
function atCap(pattern: string): () => unknown {
  const compiled = compilePattern(pattern);
  const input = letters(compiled.ok ? compiled.maxInput : 0, 'ab');
  return () => validateAnswer(input, { type: 'regex', pattern });
}

function webhookOfMb(): unknown {
  const change = (i: number) => ({
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: { phone_number_id: String(100000 + i) },
      messages: [{ from: '573001112233', id: `wamid.${i}`, type: 'text', text: { body: 'x' } }],
    },
  });
  const count = Math.floor((MB - 300) / (JSON.stringify(change(100_000)).length + 1));
  const changes = Array.from({ length: count }, (_, i) => change(i));
  return { object: 'whatsapp_business_account', entry: [{ id: '1', changes }] };
}

export interface WorstCase {
  name: string;
  /** Builds the input (not timed) and returns the call to time. */
  prepare(): () => unknown;
}

export const WORST_CASES: WorstCase[] = [
  { name: 'regex (a+)+b, 4,096 × a', prepare: () => validate({ type: 'regex', pattern: '(a+)+b' }, 'a') },
  { name: 'regex (x+x+)+y, 4,096 × x', prepare: () => validate({ type: 'regex', pattern: '(x+x+)+y' }, 'x') },
  { name: 'regex [ab]*a[ab]{400} (no DFA) at its answer cap', prepare: () => atCap('[ab]*a[ab]{400}') },
  { name: 'regex 2,000-instruction program at its answer cap', prepare: () => atCap(bigPattern) },
  { name: 'text, 4,096 × space-x', prepare: () => validate({ type: 'text', min_length: 2 }, ' x') },
  { name: 'email, 4,096 × a@', prepare: () => validate({ type: 'email' }, 'a@') },
  { name: 'number, 4,096 × 1.', prepare: () => validate({ type: 'number' }, '1.') },
  { name: 'number, 4,096 × 1,1.', prepare: () => validate({ type: 'number' }, '1,1.') },
  { name: 'date DD/MM/YYYY, 4,096 × 1/', prepare: () => validate({ type: 'date', format: 'DD/MM/YYYY' }, '1/') },
  { name: 'national_id CO, 4,096 × 1.', prepare: () => validate({ type: 'national_id', country: 'CO' }, '1.') },
  { name: 'national_id MX, 4,096 × A', prepare: () => validate({ type: 'national_id', country: 'MX' }, 'A') },
  { name: 'national_id ES, 4,096 × 1-', prepare: () => validate({ type: 'national_id', country: 'ES' }, '1-') },
  {
    name: 'option matching, 64 KB of a!!!…!a',
    prepare: () => {
      const text = 'a' + '!'.repeat(KB64) + 'a';
      return () =>
        matchOption(text, [
          { id: 'si', title: 'Sí' },
          { id: 'no', title: 'No' },
        ]);
    },
  },
  {
    name: 'normalizeForMatch, 64 KB of spaces and marks',
    prepare: () => {
      const text = 'é \u0301'.repeat(KB64 / 3);
      return () => normalizeForMatch(text);
    },
  },
  {
    name: 'keyword matching, 64 KB of a!',
    prepare: () => {
      const text = 'a!'.repeat(KB64 / 2);
      return () => [normaliseKeyword(text), foldText(text)];
    },
  },
  {
    name: 'phone parsing, 1 MB of digits',
    prepare: () => {
      const text = '5'.repeat(MB);
      return () => [toE164(text), toMobileE164(text, '57')];
    },
  },
  {
    name: 'trailing slashes, 16 KB of / then x',
    prepare: () => {
      const text = '/'.repeat(16_384) + 'x';
      return () => trimTrailing(text, '/');
    },
  },
  {
    name: 'webhook parsing, a 1 MB envelope',
    prepare: () => {
      const body = webhookOfMb();
      return () => [parseCloudWebhook(body), routingKeys(body)];
    },
  },
];
