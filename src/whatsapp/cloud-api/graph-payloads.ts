import type { AuthenticationTemplateDefinition, OutgoingMessage, TemplateDefinition } from '../whatsapp.types.js';
import { digits } from '../../common/phone/phone.js';
import { openAuthCode } from '../auth-code.js';

/** The `/messages` request body for a message, in the Cloud API format (360dialog-style BSPs take the same). */
export function toGraphMessage(to: string, m: OutgoingMessage): Record<string, unknown> {
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: digits(to) };
  switch (m.kind) {
    case 'text':
      return { ...base, type: 'text', text: { body: m.body, preview_url: m.previewUrl ?? false } };
    case 'buttons':
      return {
        ...base,
        type: 'interactive',
        interactive: {
          type: 'button',
          ...(m.header ? { header: { type: 'text', text: m.header } } : {}),
          body: { text: m.body },
          ...(m.footer ? { footer: { text: m.footer } } : {}),
          action: { buttons: m.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) },
        },
      };
    case 'list':
      return {
        ...base,
        type: 'interactive',
        interactive: {
          type: 'list',
          ...(m.header ? { header: { type: 'text', text: m.header } } : {}),
          body: { text: m.body },
          ...(m.footer ? { footer: { text: m.footer } } : {}),
          action: {
            button: m.buttonText,
            sections: [{ title: m.buttonText.slice(0, 24), rows: m.rows.map((r) => ({ id: r.id, title: r.title, ...(r.description ? { description: r.description } : {}) })) }],
          },
        },
      };
    case 'media': {
      const media: Record<string, unknown> = m.mediaId ? { id: m.mediaId } : { link: m.link };
      if (m.caption) media.caption = m.caption;
      if (m.filename && m.mediaType === 'document') media.filename = m.filename;
      return { ...base, type: m.mediaType, [m.mediaType]: media };
    }
    case 'file':
      throw new Error('a stored-file message is sent through sendFile, with its bytes');
    case 'location':
      return { ...base, type: 'location', location: { latitude: m.latitude, longitude: m.longitude, name: m.name, address: m.address } };
    case 'template': {
      const components: Record<string, unknown>[] = [];
      if (m.header) {
        const parameter =
          m.header.type === 'location'
            ? { type: 'location', location: { latitude: m.header.latitude, longitude: m.header.longitude, name: m.header.name, address: m.header.address } }
            : { type: m.header.type, [m.header.type]: { link: m.header.link } };
        components.push({ type: 'header', parameters: [parameter] });
      }
      if (m.authCode) {
        // Meta's copy-code send: the code is the body's one parameter and the URL parameter of button 0.
        const code = openAuthCode(m.authCode);
        components.push({ type: 'body', parameters: [{ type: 'text', text: code }] }, { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] });
      } else if (m.bodyParams?.length) components.push({ type: 'body', parameters: m.bodyParams.map((text) => ({ type: 'text', text })) });
      (m.buttonPayloads ?? []).forEach((payload, index) =>
        components.push({ type: 'button', sub_type: 'quick_reply', index: String(index), parameters: [{ type: 'payload', payload }] }),
      );
      return { ...base, type: 'template', template: { name: m.name, language: { code: m.language }, ...(components.length ? { components } : {}) } };
    }
  }
}

/** The `message_templates` request body. */
export function toGraphTemplate(t: TemplateDefinition): Record<string, unknown> {
  if (t.authentication) return toGraphAuthenticationTemplate(t);
  const components: Record<string, unknown>[] = [];
  if (t.header) {
    components.push(
      t.header.format === 'LOCATION' ? { type: 'HEADER', format: 'LOCATION' } : { type: 'HEADER', format: t.header.format, example: { header_handle: [t.header.exampleUrl] } },
    );
  }
  components.push({ type: 'BODY', text: t.body, ...(t.bodyExamples.length ? { example: { body_text: [t.bodyExamples] } } : {}) });
  if (t.quickReplies?.length) components.push({ type: 'BUTTONS', buttons: t.quickReplies.map((text) => ({ type: 'QUICK_REPLY', text })) });
  return { name: t.name, language: t.language, category: t.category, components };
}

/** An AUTHENTICATION template as Meta documents it: no text of ours, the options as flags, one copy-code button. */
function toGraphAuthenticationTemplate(t: AuthenticationTemplateDefinition): Record<string, unknown> {
  const a = t.authentication;
  const components: Record<string, unknown>[] = [
    { type: 'BODY', ...(a.addSecurityRecommendation !== undefined ? { add_security_recommendation: a.addSecurityRecommendation } : {}) },
  ];
  if (a.codeExpirationMinutes !== undefined) components.push({ type: 'FOOTER', code_expiration_minutes: a.codeExpirationMinutes });
  components.push({ type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', ...(a.copyCodeButtonText ? { text: a.copyCodeButtonText } : {}) }] });
  return { name: t.name, language: t.language, category: 'AUTHENTICATION', components };
}

/** A template's rejection reason as Meta reports it, or null (Meta says `NONE` when there is none). */
export function rejectionReason(reason: unknown): string | null {
  return reason && reason !== 'NONE' ? String(reason) : null;
}
