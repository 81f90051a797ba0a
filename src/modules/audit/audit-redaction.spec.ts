import { auditChanges, MAX_CHANGES_BYTES, REDACTED } from './audit-redaction.js';

describe('auditChanges', () => {
  it('redacts secret fields by name at any depth, keeping that they were set', () => {
    const out = auditChanges({
      phone_number: '+573001234567',
      access_token: 'EAAG-abc',
      app_secret: 's3cr3t',
      verify_token: 'vt',
      api_key: 'bsp-key',
      nested: { auth_token: 'twilio', password: 'p', keep: 'visible', list: [{ secret: 'x' }] },
      previous_secret: null,
    });
    expect(out).toEqual({
      phone_number: '+573001234567',
      access_token: REDACTED,
      app_secret: REDACTED,
      verify_token: REDACTED,
      api_key: REDACTED,
      nested: { auth_token: REDACTED, password: REDACTED, keep: 'visible', list: [{ secret: REDACTED }] },
      previous_secret: null,
    });
  });

  it('redacts our secrets found in text, URL credentials and secret query parameters, and JSON inside form fields', () => {
    const out = auditChanges({
      note: 'key tgk_AbCdEfGh12345678 and whsec_QUJDREVGR0hJSktM',
      url: 'https://user:pw@hooks.example.com/in?token=abc&team=7',
      steps: JSON.stringify([{ id: 'a', type: 'message', text: 'hola', api_key: 'k' }]),
    });
    expect(out.note).toBe(`key ${REDACTED} and ${REDACTED}`);
    expect(out.url).toBe('https://REDACTED:REDACTED@hooks.example.com/in?token=REDACTED&team=7');
    expect(out.steps).toEqual([{ id: 'a', type: 'message', text: 'hola', api_key: REDACTED }]);
  });

  it('keeps only field names of a body too big to store', () => {
    const out = auditChanges({ name: 'big', steps: [{ text: 'x'.repeat(MAX_CHANGES_BYTES) }] });
    expect(out).toEqual({ truncated: true, fields: ['name', 'steps'] });
  });

  it('records nothing for an empty or non-object body', () => {
    expect(auditChanges(undefined)).toEqual({});
    expect(auditChanges('text')).toEqual({});
  });
});
