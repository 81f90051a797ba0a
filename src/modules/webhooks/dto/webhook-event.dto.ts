import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { PageQueryDto } from '../../../common/http/pagination.js';

/** The stored webhook calls a tenant is shown: those that need someone to look at them. */
export const LISTED_EVENT_STATUSES = ['unknown_line', 'failed'] as const;
export type ListedEventStatus = (typeof LISTED_EVENT_STATUSES)[number];

export class ListWebhookEventsQueryDto extends PageQueryDto {
  @ApiProperty({
    enum: LISTED_EVENT_STATUSES,
    description:
      '`unknown_line`: calls signed with the app secret of one of your lines for a phone_number_id not registered here ' +
      '(a number of your WABA you have not added yet); `failed`: calls that could not be applied after every retry',
  })
  @IsIn(LISTED_EVENT_STATUSES)
  status: ListedEventStatus;
}

export interface WebhookEventRow {
  id: string;
  source: string;
  line_id: string;
  status: string;
  received_at: Date;
  processed_at: Date | null;
  attempts: number;
  error: string | null;
  summary: { phone_number_ids?: string[] } | null;
}

export class WebhookEventDto {
  @ApiProperty({ example: 'WHE01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ enum: ['cloud_api', 'bsp', 'sandbox'] }) source: string;
  @ApiProperty({ description: 'The line whose secret verified the call' }) line_id: string;
  @ApiProperty({ enum: LISTED_EVENT_STATUSES }) status: string;
  @ApiProperty({ type: [String], description: 'unknown_line: the phone_number_ids the call is about (at most 20)' })
  phone_number_ids: string[];
  @ApiProperty() received_at: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: String, description: 'failed: why' }) error: string | null;

  static from(r: WebhookEventRow): WebhookEventDto {
    return {
      id: r.id,
      source: r.source,
      line_id: r.line_id,
      status: r.status,
      phone_number_ids: r.summary?.phone_number_ids ?? [],
      received_at: r.received_at.toISOString(),
      attempts: r.attempts,
      error: r.error,
    };
  }
}
