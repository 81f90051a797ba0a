import { MessageRetentionCron } from './message-retention.cron.js';
import { ProcessesMetrics } from './processes.metrics.js';
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FlowsModule } from '../flows/flows.module.js';
import { HooksModule } from '../hooks/hooks.module.js';
import { InboundsModule } from '../inbounds/inbounds.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { ReengagementModule } from '../reengagement/reengagement.module.js';
import { ConversationsCron } from './conversations.cron.js';
import { ConversationsService } from './conversations.service.js';
import { EngineInterceptor, ExitKeywordsInterceptor } from './engine.interceptors.js';
import { InboundChain } from './inbound-chain.js';
import { ProcessAnswer } from './entities/process-answer.entity.js';
import { Process } from './entities/process.entity.js';
import { ProcessResultsService } from './process-results.service.js';
import { ProcessesController } from './processes.controller.js';
import { BASIC_STEP_TYPES } from './steps/index.js';

/**
 * The engine: one active process per (line, user), the basic step types, expiry, the inbound chain (which modules above
 * register their interceptors into), and the results API (/v1/processes).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Process, ProcessAnswer]), DiscoveryModule, FlowsModule, HooksModule, InboundsModule, MessagesModule, ReengagementModule],
  controllers: [ProcessesController],
  providers: [
    ProcessesMetrics,
    MessageRetentionCron,
    ConversationsService,
    ProcessResultsService,
    ConversationsCron,
    InboundChain,
    ExitKeywordsInterceptor,
    EngineInterceptor,
    ...BASIC_STEP_TYPES,
  ],
  exports: [ConversationsService, ProcessResultsService, ConversationsCron, InboundChain],
})
export class ConversationsModule {}
