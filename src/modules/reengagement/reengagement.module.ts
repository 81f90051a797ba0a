import { FollowUpsMetrics } from './follow-ups.metrics.js';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MessagesModule } from '../messages/messages.module.js';
import { FollowUp } from './entities/follow-up.entity.js';
import { FollowUpsCron } from './follow-ups.cron.js';
import { FollowUpsService } from './follow-ups.service.js';

/** Re-engagement follow-ups: scheduled by the conversation engine, sent by the cron. No HTTP API of its own. */
@Module({
  imports: [TypeOrmModule.forFeature([FollowUp]), MessagesModule],
  providers: [FollowUpsService, FollowUpsCron, FollowUpsMetrics],
  exports: [FollowUpsService, FollowUpsCron],
})
export class ReengagementModule {}
