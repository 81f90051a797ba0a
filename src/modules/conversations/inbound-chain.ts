import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { ConversationsService } from './conversations.service.js';
import type { InboundContext, InboundInterceptor } from './inbound-context.js';

export type { InboundContext, InboundInterceptor, InterceptResult } from './inbound-context.js';

export interface InboundInterceptorMeta {
  /** Lower runs first. The bands: consent keywords 100, invitation taps 200, exit keywords 300, the engine 1000. */
  order: number;
  name: string;
}

/** Marks a provider as an inbound interceptor; `InboundChain` finds it. */
export const RegisterInboundInterceptor = DiscoveryService.createDecorator<InboundInterceptorMeta>();

export const INBOUND_ORDER = { consentKeywords: 100, invitationTaps: 200, exitKeywords: 300, engine: 1000 } as const;

/**
 * The ordered chain every user message goes through: modules register interceptors into it (opt-out / opt-in
 * keywords, invitation taps, exit keywords, then the engine), and the webhook processor only hands messages to it.
 */
@Injectable()
export class InboundChain implements OnModuleInit {
  private interceptors: Array<{ meta: InboundInterceptorMeta; interceptor: InboundInterceptor }> = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly conversations: ConversationsService,
  ) {}

  onModuleInit(): void {
    this.interceptors = this.discovery
      .getProviders({ metadataKey: RegisterInboundInterceptor.KEY })
      .filter((w) => w.instance)
      .map((w) => ({ meta: this.discovery.getMetadataByDecorator(RegisterInboundInterceptor, w)!, interceptor: w.instance as InboundInterceptor }))
      .sort((a, b) => a.meta.order - b.meta.order);
    const orders = this.interceptors.map((i) => i.meta.order);
    if (new Set(orders).size !== orders.length) throw new Error(`two inbound interceptors share an order: ${this.names().join(', ')}`);
  }

  /** The interceptors in the order they run (`name@order`). */
  names(): string[] {
    return this.interceptors.map((i) => `${i.meta.name}@${i.meta.order}`);
  }

  async apply(ctx: InboundContext): Promise<void> {
    // A process whose time ran out is expired before anyone looks at the message.
    await this.conversations.expireIfDue(ctx);
    for (const { interceptor } of this.interceptors) if ((await interceptor.handle(ctx)) === 'handled') return;
  }
}
