import { LookupCache } from '../../common/cache/lookup-cache.js';
import { checkOutgoingUrl } from '../../common/http/url-guard.js';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
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

  async create(tenantId: string, dto: CreateNumberDto): Promise<WhatsappLine> {
    const line = this.lines.create({
      id: newId('WAN'),
      tenantId,
      phoneNumber: toE164(dto.phone_number)!,
      provider: dto.provider,
      throughputMps: dto.throughput_mps ?? 80,
      ...this.credentials(dto.provider, dto, {}),
    });
    await this.verifyOwnership(line);
    return this.save(line);
  }

  async update(tenantId: string, id: string, dto: UpdateNumberDto): Promise<WhatsappLine> {
    const line = await this.get(tenantId, id);
    const current = { phone_number_id: line.phoneNumberId, waba_id: line.wabaId, base_url: line.baseUrl, ...line.secrets };
    Object.assign(line, this.credentials(line.provider, dto, current));
    if (line.phoneNumberId !== current.phone_number_id || line.secrets.access_token !== current.access_token) await this.verifyOwnership(line);
    if (dto.throughput_mps !== undefined) line.throughputMps = dto.throughput_mps;
    return this.save(line);
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

  private cached(key: string, load: () => Promise<Array<WhatsappLine | null>>): Promise<WhatsappLine[]> {
    return this.lookups.get(key, async () => (await load()).filter((l): l is WhatsappLine => l !== null));
  }

  async hasVerifyToken(token: string): Promise<boolean> {
    return this.lines.createQueryBuilder('l').where(`l.secrets ->> 'verify_token' = :token`, { token }).getExists();
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
      baseUrl: merged.base_url ? merged.base_url.replace(/\/+$/, '') : null,
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
      throw notVerified('phone_number', `phone_number ${line.phoneNumber} is not the number of phone_number_id ${line.phoneNumberId} (WhatsApp shows ${number.displayPhoneNumber})`);
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
