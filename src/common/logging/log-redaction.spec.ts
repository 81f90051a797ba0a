import { QueryFailedError } from 'typeorm';
import { logError, redactUrl } from './log-redaction.js';

describe('redactUrl', () => {
  it('redacts every query value but the harmless ones', () => {
    expect(redactUrl('/v1/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=123')).toBe(
      '/v1/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=[REDACTED]&hub.challenge=[REDACTED]',
    );
    expect(redactUrl('/v1/processes?phone=%2B573001112233&status=pending&limit=5&x%2Etoken=a')).toBe('/v1/processes?phone=[REDACTED]&status=pending&limit=5&x%2Etoken=[REDACTED]');
    expect(redactUrl('/v1/flows')).toBe('/v1/flows');
    expect(redactUrl('/v1/x?flag&key=%ZZ')).toBe('/v1/x?flag&key=[REDACTED]');
  });
});

describe('logError', () => {
  it('keeps neither the statement, its parameters nor quoted values of a query error', () => {
    const driverError = Object.assign(new Error('invalid input syntax for type uuid: "+573001112233"'), { code: '22P02', detail: 'Key (phone)=(+573001112233)' });
    const err = new QueryFailedError('SELECT * FROM t WHERE phone = $1', ['+573001112233'], driverError);
    const logged = JSON.stringify(logError(err));
    expect(logged).not.toContain('573001112233');
    expect(logged).not.toContain('SELECT');
    expect(logError(err)).toMatchObject({ type: 'QueryFailedError', code: '22P02', message: 'invalid input syntax for type uuid: "…"' });
  });

  it('does the same for a query error pino has already serialized (how pino-http hands it over)', () => {
    const serialized = {
      type: 'QueryFailedError',
      message: 'refused for +57 300 888 0003',
      stack: 'QueryFailedError: refused for +573008880003\n    at x',
      query: 'INSERT …',
      parameters: ['+573008880003'],
      driverError: { code: 'P0001', detail: '+573008880003' },
    };
    const logged = logError(serialized);
    expect(JSON.stringify(logged)).not.toMatch(/888|INSERT/);
    expect(logged).toMatchObject({ code: 'P0001', stack: '    at x' });
  });

  it('leaves other errors alone', () => {
    const other = { type: 'Error', message: 'boom', stack: 'Error: boom' };
    expect(logError(other)).toBe(other);
  });
});
