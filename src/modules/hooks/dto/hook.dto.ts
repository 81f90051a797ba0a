import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, IsUrl, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../common/http/pagination.js';
import { ToBoolean, Trim } from '../../../common/http/transforms.js';
import type { Hook } from '../entities/hook.entity.js';
import { DELIVERY_STATUSES, HOOK_EVENTS, PING_EVENT, type DeliveryStatus } from '../hook-events.js';

/** Lists from JSON arrays or form bodies (`events=a,b` or repeated `events=a&events=b`); trimmed, empties dropped. */
const ToList = () =>
  Transform(({ value }) => {
    if (typeof value === 'string') value = [value];
    if (!Array.isArray(value)) return value;
    if (!value.every((v) => typeof v === 'string')) return value;
    return (value as string[])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter((v) => v.length > 0);
  });

export class CreateHookDto {
  @ApiProperty({
    example: 'https://api.example.com/testigo/hooks',
    maxLength: 2000,
    description:
      'Your endpoint. https only (http://localhost and http://127.0.0.1 when the service allows local URLs). ' +
      'Private, loopback and link-local addresses are refused, at creation and again at every delivery.',
  })
  @Trim()
  @IsString()
  @IsUrl({ require_protocol: true, protocols: ['https', 'http'], require_tld: false }, { message: 'url must be a valid https URL' })
  @MaxLength(2000)
  url: string;

  @ApiProperty({
    enum: HOOK_EVENTS,
    isArray: true,
    example: ['process.succeeded', 'process.failed'],
    description: 'Events to receive (at least one). Form bodies: comma-separated or repeated field.',
  })
  @ToList()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(HOOK_EVENTS.length * 2)
  @IsIn(HOOK_EVENTS as unknown as string[], { each: true, message: `events must be some of: ${HOOK_EVENTS.join(', ')}` })
  events: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C'],
    description: 'Only events of processes of these flows. Empty or absent: every flow (and events without a flow).',
  })
  @IsOptional()
  @ToList()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(100, { each: true })
  flow_ids?: string[];

  @ApiPropertyOptional({ default: true, description: 'Inactive hooks get no new deliveries and send none.' })
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  active?: boolean;
}

export class UpdateHookDto extends PartialType(CreateHookDto) {}

export class HookDto {
  @ApiProperty({ example: 'HOK01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ example: 'https://api.example.com/testigo/hooks' }) url: string;
  @ApiProperty({ enum: HOOK_EVENTS, isArray: true, example: ['process.succeeded'] }) events: string[];
  @ApiProperty({ type: [String], example: [] }) flow_ids: string[];
  @ApiProperty({ example: true }) active: boolean;
  @ApiProperty({
    nullable: true,
    type: String,
    example: null,
    description: 'Why the service disabled the hook (every delivery failed for 3 days); cleared by setting active=true.',
  })
  disabled_reason: string | null;
  @ApiProperty({ nullable: true, type: String, example: null }) disabled_at: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: null,
    description: 'After a rotation, until when the previous secret still signs alongside the new one.',
  })
  previous_secret_expires_at: string | null;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;

  static from(h: Hook, now: Date): HookDto {
    const overlap = h.previousSecretExpiresAt && h.previousSecretExpiresAt > now ? h.previousSecretExpiresAt : null;
    return {
      id: h.id,
      url: h.url,
      events: h.events,
      flow_ids: h.flowIds,
      active: h.active,
      disabled_reason: h.disabledReason,
      disabled_at: h.disabledAt?.toISOString() ?? null,
      previous_secret_expires_at: overlap?.toISOString() ?? null,
      created_at: h.createdAt.toISOString(),
      updated_at: h.updatedAt.toISOString(),
    };
  }
}

export class HookWithSecretDto extends HookDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'Signing secret (Standard Webhooks). Shown only in this response: store it now.',
  })
  secret: string;
}

export class ListDeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES as unknown as string[], { message: `status must be one of: ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;

  @ApiPropertyOptional({ enum: [...HOOK_EVENTS, PING_EVENT], description: 'Event type' })
  @IsOptional()
  @IsIn([...HOOK_EVENTS, PING_EVENT], { message: `event must be one of: ${[...HOOK_EVENTS, PING_EVENT].join(', ')}` })
  event?: string;
}

export class DeliveryAttemptDto {
  @ApiProperty({ example: '2026-03-02T15:00:05.000Z' }) at: string;
  @ApiProperty({ nullable: true, type: Number, example: 503, description: 'Null when no response came back' }) http_status: number | null;
  @ApiProperty({ example: 120 }) latency_ms: number;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'HTTP_503',
    description: '`HTTP_<status>`, `TIMEOUT`, `CONNECTION_FAILED: …`, `DNS_FAILED: …`, `SSRF_BLOCKED: …`; null on success',
  })
  error: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'Service Unavailable', description: 'First 500 characters of the response body' })
  response_excerpt: string | null;
}

export class DeliveryDto {
  @ApiProperty({ example: 'HKD01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ example: 'HOK01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) hook_id: string;
  @ApiProperty({ example: 'EVT01JD3V6Q4T1Z0K6M3P9X2Y5B7C', description: 'Also the `webhook-id` header and the body `id`' }) event_id: string;
  @ApiProperty({ example: 'process.succeeded' }) event_type: string;
  @ApiProperty({ enum: DELIVERY_STATUSES, description: '`sending`: being sent now' }) status: DeliveryStatus;
  @ApiProperty({ nullable: true, type: String, description: 'When the next try is due (pending deliveries)' }) next_attempt_at: string | null;
  @ApiProperty({ nullable: true, type: String }) delivered_at: string | null;
  @ApiProperty({ type: [DeliveryAttemptDto], description: 'Every try, oldest first' }) attempts: DeliveryAttemptDto[];
  @ApiProperty() created_at: string;
}

/** What your endpoint receives (documentation only: the body of every delivery). */
export class HookPayloadDto {
  @ApiProperty({ example: 'EVT01JD3V6Q4T1Z0K6M3P9X2Y5B7C', description: 'Event id, also sent as the `webhook-id` header; dedupe on it' })
  id: string;
  @ApiProperty({ enum: [...HOOK_EVENTS, PING_EVENT], example: 'process.succeeded' }) type: string;
  @ApiProperty({ example: '2026-03-02T15:00:00.000Z', description: 'When the event happened' }) created_at: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { process_id: 'PRC01JD3V6Q4T1Z0K6M3P9X2Y5B7C', flow_id: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C', status: 'succeeded' },
    description: 'The event itself; its shape depends on `type`',
  })
  data: object;
}
