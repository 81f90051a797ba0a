/** What other modules (the conversation engine) may use from re-engagement. */
export { ReengagementModule } from './reengagement.module.js';
export { FollowUpsService, type ScheduleFollowUpInput } from './follow-ups.service.js';
export { FollowUpsCron } from './follow-ups.cron.js';
export { FollowUpStateDto } from './follow-up-state.dto.js';
export { FollowUp, type FollowUpStatus, type FollowUpAnswer, type FollowUpCancelReason } from './entities/follow-up.entity.js';
export * from './follow-up-rules.js';
export * from './business-window.js';
