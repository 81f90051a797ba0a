import { ApiProperty } from '@nestjs/swagger';
import { FOLLOW_UP_STATUSES, type FollowUp, type FollowUpAnswer, type FollowUpStatus } from './entities/follow-up.entity.js';

/** A process's latest follow-up, as `GET /v1/processes/{id}` shows it (field `follow_up`, null when none). */
export class FollowUpStateDto {
  @ApiProperty({
    enum: FOLLOW_UP_STATUSES,
    description:
      '`scheduled`: waiting for its time; `sent`: delivered to the send queue, awaiting yes/no; `answered`: the user tapped yes or no; ' +
      '`skipped`: never sent (see skip_reason); `cancelled`: the user answered the question first, or the process ended',
  })
  status: FollowUpStatus;

  @ApiProperty({ example: '2026-03-02T17:00:00.000Z', description: 'When it is (or was) due to go out: the question time + follow_up_delay, moved into the business window' })
  scheduled_at: string;

  @ApiProperty({ type: String, nullable: true, example: '2026-03-02T17:00:01.000Z', description: 'When it was queued for sending; null when it never was' })
  sent_at: string | null;

  @ApiProperty({ description: 'True when it was not sent because its time fell after WhatsApp’s 24-hour window closed' })
  skipped: boolean;

  @ApiProperty({ type: String, nullable: true, enum: ['outside_24h_window'], example: null })
  skip_reason: string | null;

  @ApiProperty({ type: String, nullable: true, enum: ['yes', 'no'], example: null, description: 'The button the user tapped; null until then' })
  answer: FollowUpAnswer | null;

  @ApiProperty({ type: String, nullable: true, example: null, description: 'When the user tapped yes or no' })
  answered_at: string | null;

  static from(f: FollowUp): FollowUpStateDto {
    const dto = new FollowUpStateDto();
    dto.status = f.status;
    dto.scheduled_at = f.dueAt.toISOString();
    dto.sent_at = f.sentAt?.toISOString() ?? null;
    dto.skipped = f.status === 'skipped';
    dto.skip_reason = f.skipReason;
    dto.answer = f.answer;
    dto.answered_at = f.answeredAt?.toISOString() ?? null;
    return dto;
  }
}
