import { WebhookInboxMetrics } from './webhook-inbox.metrics.js';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { HooksModule } from '../hooks/hooks.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { OutboundsModule } from '../outbounds/outbounds.module.js';
import { TemplatesModule } from '../templates/templates.module.js';
import { SandboxSms } from './entities/sandbox-sms.entity.js';
import { SandboxSmsController } from './sandbox-sms.controller.js';
import { SandboxSmsService } from './sandbox-sms.service.js';
import { SandboxController } from './sandbox.controller.js';
import { SandboxService } from './sandbox.service.js';
import { WebhookEventsController } from './webhook-events.controller.js';
import { WebhookEventsCron } from './webhook-events.cron.js';
import { WebhookEventsService } from './webhook-events.service.js';
import { WebhookInboxService } from './webhook-inbox.service.js';
import { WebhookProcessorService } from './webhook-processor.service.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * Ingress: Meta/BSP webhook endpoints and sandbox injection → inbox table → processor → the owning modules; and the
 * sandbox SMS inbox, where the sandbox SMS provider records what it sends.
 */
@Module({
  imports: [TypeOrmModule.forFeature([SandboxSms]), MessagesModule, TemplatesModule, OutboundsModule, ConversationsModule, HooksModule],
  controllers: [WebhooksController, WebhookEventsController, SandboxController, SandboxSmsController],
  providers: [WebhookInboxMetrics, WebhooksService, WebhookInboxService, WebhookProcessorService, WebhookEventsService, WebhookEventsCron, SandboxService, SandboxSmsService],
  exports: [WebhookProcessorService, WebhookEventsService, SandboxService],
})
export class WebhooksModule {}
