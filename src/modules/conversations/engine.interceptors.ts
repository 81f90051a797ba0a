import { Injectable } from '@nestjs/common';
import { ConversationsService } from './conversations.service.js';
import { INBOUND_ORDER, RegisterInboundInterceptor, type InboundContext, type InboundInterceptor, type InterceptResult } from './inbound-chain.js';

/** `salir`, `exit` or the tenant's exit keywords cancel the user's running process. */
@Injectable()
@RegisterInboundInterceptor({ order: INBOUND_ORDER.exitKeywords, name: 'exit-keywords' })
export class ExitKeywordsInterceptor implements InboundInterceptor {
  constructor(private readonly conversations: ConversationsService) {}

  async handle(ctx: InboundContext): Promise<InterceptResult> {
    return (await this.conversations.exitIfAsked(ctx)) ? 'handled' : 'continue';
  }
}

/** Last in the chain: the engine answers the waiting step, starts an inbound flow, or sends the fallback text. */
@Injectable()
@RegisterInboundInterceptor({ order: INBOUND_ORDER.engine, name: 'engine' })
export class EngineInterceptor implements InboundInterceptor {
  constructor(private readonly conversations: ConversationsService) {}

  async handle(ctx: InboundContext): Promise<InterceptResult> {
    await this.conversations.handleInbound(ctx);
    return 'handled';
  }
}
