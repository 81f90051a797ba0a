import { Injectable } from '@nestjs/common';
import { ConversationsService } from '../conversations/conversations.service.js';
import { INBOUND_ORDER, RegisterInboundInterceptor, type InboundContext, type InboundInterceptor, type InterceptResult } from '../conversations/inbound-chain.js';
import { ConsentsService } from './consents.service.js';
import { OutboundsService } from './outbounds.service.js';

/** A stop keyword opts the user out (and cancels their running process); a start keyword opts them back in. */
@Injectable()
@RegisterInboundInterceptor({ order: INBOUND_ORDER.consentKeywords, name: 'consent-keywords' })
export class ConsentKeywordsInterceptor implements InboundInterceptor {
  constructor(
    private readonly consents: ConsentsService,
    private readonly conversations: ConversationsService,
  ) {}

  async handle(ctx: InboundContext): Promise<InterceptResult> {
    const keyword = await this.consents.applyKeyword(ctx.manager, ctx.line, ctx.ev, ctx.phone);
    if (!keyword) return 'continue';
    if (keyword === 'stop') await this.conversations.cancelActive(ctx);
    return 'handled';
  }
}

/** A tap on an invitation's button: the first one starts its flow, or records the refusal; later ones change nothing. */
@Injectable()
@RegisterInboundInterceptor({ order: INBOUND_ORDER.invitationTaps, name: 'invitation-taps' })
export class InvitationTapsInterceptor implements InboundInterceptor {
  constructor(
    private readonly outbounds: OutboundsService,
    private readonly consents: ConsentsService,
    private readonly conversations: ConversationsService,
  ) {}

  async handle(ctx: InboundContext): Promise<InterceptResult> {
    const tap = await this.outbounds.answerInvitation(ctx.manager, ctx.line, ctx.ev, ctx.phone);
    if (!tap) return 'continue';
    if (!tap.first) return 'handled';
    const { flowId, sendId } = tap.invitation;
    const optIn = await this.consents.optInOfSend(ctx.manager, sendId);
    if (tap.invitation.action === 'continue_process') await this.conversations.startInvited(ctx, flowId, sendId, optIn);
    else await this.conversations.recordDeclined(ctx, flowId, sendId, optIn);
    return 'handled';
  }
}
