import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { EntityManager } from 'typeorm';
import type { InboundMessageEvent } from '../../whatsapp/whatsapp.types.js';
import type { Message } from '../messages/entities/message.entity.js';
import type { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import { ConversationsService, type UserState } from './conversations.service.js';

/** A user's message, recorded and about to be applied, inside the webhook processor's transaction. */
export interface InboundContext {
  manager: EntityManager;
  line: WhatsappLine;
  ev: InboundMessageEvent;
  message: Message;
  mediaFileId: string | null;
  /** The user's number, E.164. */
  phone: string;
  /** The user's window and pending process (row locked), kept current while the transaction applies their messages. */
  state: UserState;
}

/** `handled`: the message was dealt with, the rest of the chain does not see it. */
export type InterceptResult = 'continue' | 'handled';

export interface InboundInterceptor {
  handle(ctx: InboundContext): Promise<InterceptResult>;
}

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
