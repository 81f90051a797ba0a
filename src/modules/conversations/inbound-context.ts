import type { EntityManager } from 'typeorm';
import type { InboundMessageEvent } from '../../whatsapp/whatsapp.types.js';
import type { Message } from '../messages/entities/message.entity.js';
import type { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import type { UserState } from './conversations.service.js';

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
