import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { HooksModule } from '../hooks/hooks.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { OutboundsModule } from '../outbounds/outbounds.module.js';
import { TemplatesModule } from '../templates/templates.module.js';
import { SandboxController } from './sandbox.controller.js';
import { SandboxService } from './sandbox.service.js';
import { WebhookEventsController } from './webhook-events.controller.js';
import { WebhookEventsCron } from './webhook-events.cron.js';
import { WebhookEventsService } from './webhook-events.service.js';
import { WebhookInboxService } from './webhook-inbox.service.js';
import { WebhookProcessorService } from './webhook-processor.service.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

/** Ingress: Meta/BSP webhook endpoints and sandbox injection → inbox table → processor → the owning modules. */
@Module({
  imports: [MessagesModule, TemplatesModule, OutboundsModule, ConversationsModule, HooksModule],
  controllers: [WebhooksController, WebhookEventsController, SandboxController],
  providers: [WebhooksService, WebhookInboxService, WebhookProcessorService, WebhookEventsService, WebhookEventsCron, SandboxService],
  exports: [WebhookProcessorService, WebhookEventsService],
})
export class WebhooksModule {}
