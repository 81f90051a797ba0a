import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { DocumentsModule } from '../documents/documents.module.js';
import { FlowsModule } from '../flows/flows.module.js';
import { MessagesModule } from '../messages/messages.module.js';
import { HooksModule } from '../hooks/hooks.module.js';
import { TemplatesModule } from '../templates/templates.module.js';
import { ConsentsApiService } from './consents-api.service.js';
import { ConsentsController } from './consents.controller.js';
import { ConsentsService } from './consents.service.js';
import { Consent } from './entities/consent.entity.js';
import { OutboundSend } from './entities/outbound-send.entity.js';
import { Outbound } from './entities/outbound.entity.js';
import { IdempotencyService } from './idempotency.service.js';
import { ConsentKeywordsInterceptor, InvitationTapsInterceptor } from './inbound.interceptors.js';
import { OutboundsController } from './outbounds.controller.js';
import { OutboundsService } from './outbounds.service.js';

/**
 * The documented /v1/whatsapp/outbounds API: templates for approval, sends to opted-in users, opt-in / opt-out; and
 * the inbound interceptors for consent keywords and invitation taps.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Outbound, OutboundSend, Consent]), TemplatesModule, MessagesModule, FlowsModule, HooksModule, ConversationsModule, DocumentsModule],
  controllers: [OutboundsController, ConsentsController],
  providers: [OutboundsService, ConsentsService, ConsentsApiService, IdempotencyService, ConsentKeywordsInterceptor, InvitationTapsInterceptor],
  exports: [OutboundsService, ConsentsService],
})
export class OutboundsModule {}
