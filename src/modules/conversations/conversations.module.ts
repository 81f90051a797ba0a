import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FlowsModule } from '../flows/flows.module.js';
import { HooksModule } from '../hooks/hooks.module.js';
import { InboundsModule } from '../inbounds/inbounds.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { ReengagementModule } from '../reengagement/reengagement.module.js';
import { ConversationsCron } from './conversations.cron.js';
import { ConversationsService } from './conversations.service.js';
import { ProcessAnswer } from './entities/process-answer.entity.js';
import { Process } from './entities/process.entity.js';
import { ProcessResultsService } from './process-results.service.js';
import { ProcessesController } from './processes.controller.js';
import { BASIC_STEP_TYPES } from './steps/index.js';

/** The engine: one active process per (line, user), the basic step types, expiry, and the results API (/v1/processes). */
@Module({
  imports: [TypeOrmModule.forFeature([Process, ProcessAnswer]), FlowsModule, HooksModule, InboundsModule, MessagesModule, ReengagementModule],
  controllers: [ProcessesController],
  providers: [ConversationsService, ProcessResultsService, ConversationsCron, ...BASIC_STEP_TYPES],
  exports: [ConversationsService, ProcessResultsService, ConversationsCron],
})
export class ConversationsModule {}
