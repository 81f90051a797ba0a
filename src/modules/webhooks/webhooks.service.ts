import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { Clock } from '../../common/clock/clock.js';
import { AppError, ErrorCode } from '../../common/errors/app-error.js';
import { Metrics } from '../../common/metrics/metrics.js';
import { routingKeys } from '../../whatsapp/cloud-api/webhook-parser.js';
import { WhatsappProviders } from '../../whatsapp/whatsapp-providers.js';
import type { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import { LinesService, lineCredentials } from '../tenants/lines.service.js';
import { userKeyOf, WebhookInboxService } from './webhook-inbox.service.js';

/** `sha256=` and 64 hex digits: anything else cannot verify, and is refused before any lookup. */
const SIGNATURE = /^sha256=[0-9a-f]{64}$/i;
/** App secrets tried per call: a call naming many lines cannot make ingress hash its body many times. */
const MAX_SECRETS_TRIED = 8;
/** At most one warning about refused calls per this many milliseconds (with the count of those not logged). */
const WARN_EVERY_MS = 10_000;

type RefusedReason = 'no_signature' | 'bad_signature' | 'unknown_number' | 'bad_token';

/**
 * Webhook ingress: verify, store, answer. A call is stored only when a secret we hold vouches for it (the app
 * secret of a line it names or of a line under its WABA, or a BSP line's webhook token); anything else is 401 and
 * leaves nothing behind. Processing happens afterwards, from the stored rows.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);
  private readonly refusedCalls: Counter<'route' | 'reason'>;
  private lastWarningAt = -Infinity;
  private unlogged = 0;

  constructor(
    private readonly inbox: WebhookInboxService,
    private readonly lines: LinesService,
    private readonly providers: WhatsappProviders,
    private readonly clock: Clock,
    metrics: Metrics,
  ) {
    this.refusedCalls = metrics.counter('testigo_webhook_calls_refused_total', 'Webhook calls refused with 401: nothing we hold verifies them', ['route', 'reason']);
  }

  async handshake(mode: unknown, token: unknown, challenge: unknown): Promise<string> {
    const ok = mode === 'subscribe' && typeof token === 'string' && token.length > 0 && typeof challenge === 'string' && (await this.lines.hasVerifyToken(token));
    if (!ok) throw new AppError(HttpStatus.FORBIDDEN, ErrorCode.FORBIDDEN, 'hub.verify_token does not match any line');
    return challenge as string;
  }

  /**
   * A Cloud API call. Signed with the app secret of a line it names: stored for processing. Signed with the secret of
   * a line under its WABA but naming only numbers not registered here (a number added to the WABA later): kept as
   * `unknown_line`, on that line, for its tenant to see (GET /v1/whatsapp/webhook-events). Anything else: 401.
   */
  async receiveCloud(raw: Buffer | undefined, body: unknown, signature: string | undefined): Promise<string> {
    const rawBody = this.requireJson(raw, body);
    const keys = routingKeys(body);
    if (!signature || !SIGNATURE.test(signature)) throw this.refuse('cloud_api', 'no_signature', keys.phoneNumberIds);
    // The common call: one registered number, signed with its line's secret (one cached lookup, one HMAC).
    let triedSecret: string | undefined;
    if (keys.phoneNumberIds.length === 1) {
      const line = await this.lines.findByPhoneNumberId(keys.phoneNumberIds[0]);
      if (line?.secrets.app_secret && this.providers.for(line).verifySignature(lineCredentials(line), rawBody, signature)) {
        return this.inbox.store('cloud_api', line.id, rawBody.toString('utf8'), 'pending', userKeyOf(line.id, keys.senders));
      }
      triedSecret = line?.secrets.app_secret;
    }
    const { byPhoneNumberId, underWabas } = await this.lines.findForRouting(keys.phoneNumberIds, keys.wabaIds);
    // The lines the call names first: their secret is the one that signs it.
    const candidates = [...new Set([...byPhoneNumberId.values(), ...underWabas])].filter((l) => l.provider === 'cloud_api' && l.secrets.app_secret);
    const verified = this.verifiedBy(candidates, rawBody, signature, triedSecret);
    if (!verified) throw this.refuse('cloud_api', candidates.length > 0 ? 'bad_signature' : 'unknown_number', keys.phoneNumberIds);
    const secret = verified.secrets.app_secret;
    const namesAKnownLine = keys.phoneNumberIds.some((id) => byPhoneNumberId.get(id)?.secrets.app_secret === secret);
    if (keys.phoneNumberIds.length > 0 && !namesAKnownLine) {
      this.logger.warn(
        { lineId: verified.id, phoneNumberId: keys.phoneNumberIds[0].slice(0, 64), numbers: keys.phoneNumberIds.length },
        'signed webhook for a number not registered here kept as unknown_line',
      );
      return this.inbox.store('cloud_api', verified.id, rawBody.toString('utf8'), 'unknown_line', null, { phone_number_ids: keys.phoneNumberIds.slice(0, 20) });
    }
    return this.inbox.store('cloud_api', verified.id, rawBody.toString('utf8'), 'pending', userKeyOf(verified.id, keys.senders));
  }

  /** A BSP line's call: signed with its app secret, or, for a line without one, carrying its webhook token. */
  async receiveBsp(lineId: string, raw: Buffer | undefined, body: unknown, signature: string | undefined, token: unknown): Promise<string> {
    const rawBody = this.requireJson(raw, body);
    const line = await this.lines.findById(lineId);
    if (!line || line.provider !== 'bsp') throw AppError.notFound('BSP line', lineId);
    const ok = line.secrets.app_secret ? this.providers.for(line).verifySignature(lineCredentials(line), rawBody, signature) : this.lines.webhookTokenMatches(line, token);
    if (!ok) throw this.refuse('bsp', line.secrets.app_secret ? (signature ? 'bad_signature' : 'no_signature') : 'bad_token', [line.phoneNumberId ?? line.id]);
    return this.inbox.store('bsp', line.id, rawBody.toString('utf8'), 'pending', userKeyOf(line.id, routingKeys(body).senders));
  }

  /** The first candidate whose app secret verifies the call; `alreadyTried` (a secret that did not) is not hashed again. */
  private verifiedBy(candidates: WhatsappLine[], rawBody: Buffer, signature: string, alreadyTried?: string): WhatsappLine | null {
    const tried = new Set<string>(alreadyTried ? [alreadyTried] : []);
    for (const line of candidates) {
      const secret = line.secrets.app_secret!;
      if (tried.has(secret)) continue;
      if (tried.size >= MAX_SECRETS_TRIED) break;
      tried.add(secret);
      if (this.providers.for(line).verifySignature(lineCredentials(line), rawBody, signature)) return line;
    }
    return null;
  }

  /** Counts a refused call, warns at most every WARN_EVERY_MS (naming a phone_number_id, never the body), and the 401. */
  private refuse(route: 'cloud_api' | 'bsp', reason: RefusedReason, phoneNumberIds: string[]): AppError {
    this.refusedCalls.inc({ route, reason });
    const now = this.clock.now().getTime();
    if (now - this.lastWarningAt >= WARN_EVERY_MS) {
      this.logger.warn(
        { route, reason, phoneNumberId: phoneNumberIds[0]?.slice(0, 64) ?? null, numbers: phoneNumberIds.length, refusedUnlogged: this.unlogged },
        'refused a webhook call that nothing we hold verifies',
      );
      this.lastWarningAt = now;
      this.unlogged = 0;
    } else this.unlogged++;
    return reason === 'bad_token'
      ? new AppError(HttpStatus.UNAUTHORIZED, ErrorCode.INVALID_SIGNATURE, "The token query parameter is missing or is not this line's webhook token")
      : new AppError(HttpStatus.UNAUTHORIZED, ErrorCode.INVALID_SIGNATURE, 'X-Hub-Signature-256 is missing or does not match');
  }

  private requireJson(raw: Buffer | undefined, body: unknown): Buffer {
    if (!raw || raw.length === 0 || typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AppError(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_BODY, 'Expected a JSON object body');
    }
    return raw;
  }
}
