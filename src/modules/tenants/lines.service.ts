import { LookupCache } from '../../common/cache/lookup-cache.js';
import { checkOutgoingUrl } from '../../common/http/url-guard.js';
import { HttpStatus, Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { AppError, ErrorCode } from '../../common/errors/app-error.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { toE164 } from '../../common/phone/phone.js';
import { uniqueViolation } from '../../database/pg-errors.js';
import { CreateNumberDto, SECRET_FIELDS, UpdateNumberDto } from './dto/number.dto.js';
import { ProviderError } from '../../whatsapp/provider-error.js';
import { WhatsappProviders } from '../../whatsapp/whatsapp-providers.js';
import type { LineCredentials } from '../../whatsapp/whatsapp.types.js';
import { LineSecrets, ProviderName, WhatsappLine } from './entities/whatsapp-line.entity.js';
import { trimTrailing } from '../../common/text/trim.js';
import { secretBox } from '../../common/secrets/secret-box.js';

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

export interface SavedLine {
  line: WhatsappLine;
  /** A new BSP webhook token, when one was made: it is not kept, only its hash. */
  webhookToken: string | null;
}

type CredentialField = 'phone_number_id' | 'waba_id' | 'base_url' | (typeof SECRET_FIELDS)[number];

/** Which credential fields each provider requires and accepts. */
const RULES: Record<ProviderName, { required: CredentialField[]; optional: CredentialField[] }> = {
  sandbox: { required: [], optional: [] },
  cloud_api: { required: ['phone_number_id', 'waba_id', 'access_token', 'app_secret', 'verify_token'], optional: [] },
  bsp: { required: ['api_key', 'base_url'], optional: ['app_secret', 'phone_number_id', 'waba_id'] },
};
const ALL_FIELDS: CredentialField[] = ['phone_number_id', 'waba_id', 'base_url', ...SECRET_FIELDS];
const TAKEN_CONSTRAINTS = new Set(['whatsapp_lines_phone_uq', 'whatsapp_lines_tenant_phone_uq', 'whatsapp_lines_pnid_uq']);

function notVerified(field: string, message: string): AppError {
  return new AppError(HttpStatus.UNPROCESSABLE_ENTITY, ErrorCode.LINE_NOT_VERIFIED, message, [{ field, messages: [message] }]);
}

@Injectable()
export class LinesService {
  private readonly lookups = new LookupCache<WhatsappLine[]>('lines');

  constructor(
    @InjectRepository(WhatsappLine) private readonly lines: Repository<WhatsappLine>,
    private readonly config: AppConfig,
    private readonly providers: WhatsappProviders,
  ) {}

  /** `webhookToken`: the BSP webhook token of a line without an app secret, shown only now (see webhookTokenMatches). */
  async create(tenantId: string, dto: CreateNumberDto): Promise<SavedLine> {
    const line = this.lines.create({
      id: newId('WAN'),
      tenantId,
      phoneNumber: toE164(dto.phone_number)!,
      provider: dto.provider,
      throughputMps: dto.throughput_mps ?? 80,
      ...this.credentials(dto.provider, dto, {}),
    });
    await this.verifyOwnership(line);
    const webhookToken = this.keepWebhookToken(line, null);
    return { line: await this.save(line), webhookToken };
  }

  async update(tenantId: string, id: string, dto: UpdateNumberDto): Promise<SavedLine> {
    const line = await this.get(tenantId, id);
    const current = { phone_number_id: line.phoneNumberId, waba_id: line.wabaId, base_url: line.baseUrl, ...line.secrets };
    const tokenHash = line.secrets.webhook_token_sha256 ?? null;
    Object.assign(line, this.credentials(line.provider, dto, current));
    if (line.phoneNumberId !== current.phone_number_id || line.secrets.access_token !== current.access_token) await this.verifyOwnership(line);
    if (dto.throughput_mps !== undefined) line.throughputMps = dto.throughput_mps;
    const webhookToken = this.keepWebhookToken(line, tokenHash);
    return { line: await this.save(line), webhookToken };
  }

  /** A new webhook token for a BSP line without an app secret (the old one stops working); shown only now. */
  async rotateWebhookToken(tenantId: string, id: string): Promise<SavedLine> {
    const line = await this.get(tenantId, id);
    if (line.provider !== 'bsp') throw AppError.validation('provider', 'only bsp lines have a webhook token (Cloud API calls are signed with the app secret)');
    if (line.secrets.app_secret) throw AppError.validation('app_secret', "this line's webhook calls are verified by their signature (app_secret): it has no token");
    const webhookToken = this.newWebhookToken(line);
    return { line: await this.save(line), webhookToken };
  }

  /**
   * Whether `token` (the `?token=` of a BSP webhook call) is the line's webhook token. A BSP line without an app
   * secret has no signature to check: the token, known only to the BSP's configuration, stands in for it.
   */
  webhookTokenMatches(line: WhatsappLine, token: unknown): boolean {
    const expected = line.secrets.webhook_token_sha256;
    if (!expected || typeof token !== 'string' || token.length > 100) return false;
    return timingSafeEqual(Buffer.from(sha256Hex(token)), Buffer.from(expected));
  }

  /**
   * BSP lines without an app secret keep (or get) a webhook token; other lines have none. Returns a new token, which
   * only its hash is kept of.
   */
  private keepWebhookToken(line: WhatsappLine, tokenHash: string | null): string | null {
    if (line.provider !== 'bsp' || line.secrets.app_secret) return null;
    if (tokenHash) {
      line.secrets = { ...line.secrets, webhook_token_sha256: tokenHash };
      return null;
    }
    return this.newWebhookToken(line);
  }

  private newWebhookToken(line: WhatsappLine): string {
    const token = 'bwt_' + randomBytes(24).toString('base64url');
    line.secrets = { ...line.secrets, webhook_token_sha256: sha256Hex(token) };
    return token;
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const line = await this.get(tenantId, id);
    await this.lines.softDelete({ id: line.id });
    this.lookups.clear();
  }

  async get(tenantId: string, id: string): Promise<WhatsappLine> {
    const line = await this.lines.findOneBy({ id, tenantId });
    if (!line) throw AppError.notFound('WhatsApp number', id);
    return line;
  }

  list(tenantId: string, page: PageQueryDto) {
    return paginate(this.lines.createQueryBuilder('l').where('l.tenant_id = :tenantId', { tenantId }), page);
  }

  /** The tenant's line with this phone number; 400 naming `field` when there is none. */
  async getByPhone(tenantId: string, phone: string, field = 'waba_phone_number'): Promise<WhatsappLine> {
    const e164 = toE164(phone);
    const line = e164 ? await this.lines.findOneBy({ tenantId, phoneNumber: e164 }) : null;
    if (!line) throw AppError.validation(field, `${field} must be the phone number, with country code, of one of your WhatsApp lines`);
    return line;
  }

  /*
   * Lookups for the hot paths (webhook ingress and processing, sends), cached (LookupCache): a change to a line
   * clears them here at once and on the other processes and instances when its notification arrives.
   */

  async findById(id: string): Promise<WhatsappLine | null> {
    return (await this.cached(`id:${id}`, async () => [await this.lines.findOneBy({ id })]))[0] ?? null;
  }

  /** Every line's id and throughput (the send queue leases each line's due lanes), cached like the other lookups. */
  async throughputs(): Promise<Array<{ id: string; throughputMps: number }>> {
    return (await this.cached('all', () => this.lines.find({ select: { id: true, throughputMps: true } }))).map((l) => ({ id: l.id, throughputMps: l.throughputMps }));
  }

  /** Ids of every line the tenant has or had (removed ones too: their stored events stay theirs). */
  async idsOfTenant(tenantId: string): Promise<string[]> {
    return (await this.lines.find({ select: { id: true }, where: { tenantId }, withDeleted: true })).map((l) => l.id);
  }

  /** Also a removed line: work it left behind (a media download) can still finish. */
  findByIdWithDeleted(id: string): Promise<WhatsappLine | null> {
    return this.lines.findOne({ where: { id }, withDeleted: true });
  }

  /** Only Cloud API lines: theirs are the phone_number_ids proven at registration (a BSP line's is unproven). */
  async findByPhoneNumberId(phoneNumberId: string): Promise<WhatsappLine | null> {
    return (await this.cached(`pnid:${phoneNumberId}`, async () => [await this.lines.findOneBy({ phoneNumberId, provider: 'cloud_api' })]))[0] ?? null;
  }

  findByWabaId(wabaId: string): Promise<WhatsappLine[]> {
    return this.cached(`waba:${wabaId}`, () => this.lines.findBy({ wabaId }));
  }

  /**
   * The lines a webhook call may be about: those of its phone_number_ids and those under its WABAs, through the
   * same cache entries as findByPhoneNumberId / findByWabaId, with every miss read in one query.
   */
  async findForRouting(phoneNumberIds: string[], wabaIds: string[]): Promise<{ byPhoneNumberId: Map<string, WhatsappLine>; underWabas: WhatsappLine[] }> {
    const keys = [...phoneNumberIds.map((id) => `pnid:${id}`), ...wabaIds.map((id) => `waba:${id}`)];
    const found = await this.lookups.getMany(keys, async (missing) => {
      const pnids = missing.filter((k) => k.startsWith('pnid:')).map((k) => k.slice(5));
      const wabas = missing.filter((k) => k.startsWith('waba:')).map((k) => k.slice(5));
      const rows = await this.lines.find({
        where: [...(pnids.length ? [{ phoneNumberId: In(pnids), provider: 'cloud_api' as const }] : []), ...(wabas.length ? [{ wabaId: In(wabas) }] : [])],
      });
      return new Map(
        missing.map((k) => [
          k,
          k.startsWith('pnid:') ? rows.filter((l) => l.phoneNumberId === k.slice(5) && l.provider === 'cloud_api').slice(0, 1) : rows.filter((l) => l.wabaId === k.slice(5)),
        ]),
      );
    });
    const byPhoneNumberId = new Map<string, WhatsappLine>();
    for (const id of phoneNumberIds) {
      const line = found.get(`pnid:${id}`)?.[0];
      if (line) byPhoneNumberId.set(id, line);
    }
    return { byPhoneNumberId, underWabas: wabaIds.flatMap((id) => found.get(`waba:${id}`) ?? []) };
  }

  private cached(key: string, load: () => Promise<Array<WhatsappLine | null>>): Promise<WhatsappLine[]> {
    return this.lookups.get(key, async () => (await load()).filter((l): l is WhatsappLine => l !== null));
  }

  /** Verify tokens are sealed: the lookup is by their keyed hash, under any of SECRETS_KEY's keys. */
  async hasVerifyToken(token: string): Promise<boolean> {
    return this.lines
      .createQueryBuilder('l')
      .where(`l.secrets ->> 'verify_token_hmac' IN (:...hashes)`, { hashes: secretBox().lookupHashes(token) })
      .getExists();
  }

  private credentials(provider: ProviderName, dto: Partial<Record<CredentialField, string | null>>, current: Partial<Record<CredentialField, string | null>>) {
    const rule = RULES[provider];
    const allowed = [...rule.required, ...rule.optional];
    const bad = ALL_FIELDS.filter((f) => dto[f] !== undefined && !allowed.includes(f));
    if (bad.length > 0) {
      throw new AppError(
        HttpStatus.BAD_REQUEST,
        ErrorCode.VALIDATION_FAILED,
        `Validation failed: ${bad.join(', ')}`,
        bad.map((field) => ({ field, messages: [`${field} does not apply to provider ${provider}`] })),
      );
    }
    const merged = { ...current, ...Object.fromEntries(allowed.filter((f) => dto[f] !== undefined).map((f) => [f, dto[f]])) };
    const missing = rule.required.filter((f) => !merged[f]);
    if (missing.length > 0) {
      throw new AppError(
        HttpStatus.BAD_REQUEST,
        ErrorCode.VALIDATION_FAILED,
        `Validation failed: ${missing.join(', ')}`,
        missing.map((field) => ({ field, messages: [`${field} is required for provider ${provider}`] })),
      );
    }
    if (merged.base_url) this.checkBaseUrl(merged.base_url);
    const secrets: LineSecrets = {};
    for (const f of SECRET_FIELDS) if (merged[f]) secrets[f] = merged[f]!;
    return {
      phoneNumberId: merged.phone_number_id ?? null,
      wabaId: merged.waba_id ?? null,
      baseUrl: merged.base_url ? trimTrailing(merged.base_url, '/') : null,
      secrets,
    };
  }

  /**
   * A Cloud API line is accepted only when its access token reads its phone_number_id from the Graph API and Meta
   * shows that number as the line's phone_number: a number and its webhooks cannot be claimed without the
   * credentials of its WhatsApp Business Account. Runs before the uniqueness check, so the 409 below answers only
   * someone who holds them.
   */
  private async verifyOwnership(line: WhatsappLine): Promise<void> {
    let number;
    try {
      number = await this.providers.for(line).describeNumber(lineCredentials(line));
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (err.code === 'AUTH') throw notVerified('access_token', `The Graph API refused access_token: ${err.message}`);
      if (err.retryable) {
        throw new AppError(HttpStatus.BAD_GATEWAY, ErrorCode.PROVIDER_UNAVAILABLE, `The line could not be checked with the Graph API now; try again (${err.message})`);
      }
      throw notVerified('phone_number_id', `phone_number_id ${line.phoneNumberId} cannot be read with this access_token: ${err.message}`);
    }
    if (!number) return;
    if (number.displayPhoneNumber.replace(/\D/g, '') !== line.phoneNumber.slice(1)) {
      throw notVerified(
        'phone_number',
        `phone_number ${line.phoneNumber} is not the number of phone_number_id ${line.phoneNumberId} (WhatsApp shows ${number.displayPhoneNumber})`,
      );
    }
  }

  /** The same rule as hook URLs: the line's API key goes there. */
  private checkBaseUrl(url: string): void {
    const problem = checkOutgoingUrl(url, this.config.allowLocalUrls, 'base_url');
    if (problem) throw AppError.validation('base_url', problem);
  }

  private async save(line: WhatsappLine): Promise<WhatsappLine> {
    try {
      const saved = await this.lines.save(line);
      this.lookups.clear();
      return saved;
    } catch (err) {
      // One answer whichever index refused it and whoever holds the number (this tenant or another): it must not
      // tell who registered what.
      if (TAKEN_CONSTRAINTS.has(uniqueViolation(err) ?? '')) {
        throw new AppError(HttpStatus.CONFLICT, ErrorCode.NUMBER_TAKEN, 'This number cannot be registered');
      }
      throw err;
    }
  }
}

/** What a provider adapter needs to act for this line. */
export function lineCredentials(line: WhatsappLine): LineCredentials {
  return {
    lineId: line.id,
    provider: line.provider,
    phoneNumber: line.phoneNumber,
    phoneNumberId: line.phoneNumberId,
    wabaId: line.wabaId,
    baseUrl: line.baseUrl,
    accessToken: line.secrets.access_token,
    appSecret: line.secrets.app_secret,
    apiKey: line.secrets.api_key,
  };
}
