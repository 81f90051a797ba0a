import { secretBox, SecretsKeyError } from '../common/secrets/secret-box.js';
import { ProviderError } from './provider-error.js';
import { AUTH_CODE_MAX_CHARS, type AuthenticationOptions } from './whatsapp.types.js';

/** Seals a one-time code for an authentication template message (`OutgoingMessage.authCode`). */
export function sealAuthCode(code: string): { sealed: string } {
  if (!validAuthCode(code)) throw new RangeError(`A one-time code is 1-${AUTH_CODE_MAX_CHARS} characters without spaces`);
  return { sealed: secretBox().seal(code) };
}

/**
 * The clear code of a queued authentication message, opened only to build what is sent (or what the sandbox user
 * sees). Never put it in an error message or a log: a failure names the problem, not the value.
 */
export function openAuthCode(authCode: { sealed: string }): string {
  let code: string;
  try {
    code = secretBox().open(authCode.sealed);
  } catch (err) {
    if (err instanceof SecretsKeyError) throw new ProviderError('INVALID_REQUEST', false, `The one-time code does not open: ${err.message}`);
    throw err;
  }
  if (!validAuthCode(code)) throw new ProviderError('INVALID_REQUEST', false, `The one-time code must be 1-${AUTH_CODE_MAX_CHARS} characters without spaces`);
  return code;
}

/** How a one-time code appears wherever message content is shown or sent on (APIs, hooks): never the code, never sealed. */
export const MASKED_AUTH_CODE = '******';

/** Message content fit to show: an authentication template's code replaced by MASKED_AUTH_CODE. */
export function maskAuthCode<T>(content: T): T {
  const c = content as { kind?: string; authCode?: unknown };
  return c?.kind === 'template' && c.authCode !== undefined ? ({ ...c, authCode: MASKED_AUTH_CODE } as T) : content;
}

function validAuthCode(code: string): boolean {
  const n = [...code].length;
  return n >= 1 && n <= AUTH_CODE_MAX_CHARS && !/\s/.test(code);
}

/** Meta's preset wording of an authentication template, in the languages we show it in (others fall back to English). */
const PRESETS: Record<string, { body: string; security: string; expiry: (n: number) => string; button: string }> = {
  en: {
    body: '*{{1}}* is your verification code.',
    security: 'For your security, do not share this code.',
    expiry: (n) => `This code expires in ${n} minutes.`,
    button: 'Copy code',
  },
  es: {
    body: 'Tu código de verificación es *{{1}}*.',
    security: 'Por tu seguridad, no lo compartas.',
    expiry: (n) => `Este código caduca en ${n} minutos.`,
    button: 'Copiar código',
  },
  pt: {
    body: 'Seu código de verificação é *{{1}}*.',
    security: 'Para sua segurança, não o compartilhe.',
    expiry: (n) => `Este código expira em ${n} minutos.`,
    button: 'Copiar código',
  },
};

/**
 * What WhatsApp shows for an authentication template in `language`: its body (with `{{1}}` where the code goes), its
 * footer and its button label. Meta writes these texts; this is their wording as shown to users, for the sandbox
 * transcript and for the template row.
 */
export function authenticationPreset(language: string, options: AuthenticationOptions): { body: string; footer: string | null; buttonText: string } {
  const preset = PRESETS[language.toLowerCase().split(/[_-]/)[0]!] ?? PRESETS.en!;
  return {
    body: options.addSecurityRecommendation ? `${preset.body} ${preset.security}` : preset.body,
    footer: options.codeExpirationMinutes !== undefined ? preset.expiry(options.codeExpirationMinutes) : null,
    buttonText: options.copyCodeButtonText ?? preset.button,
  };
}
