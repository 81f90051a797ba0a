import { Column, Entity, PrimaryColumn } from 'typeorm';

export type ConsentKind = 'opt_in' | 'opt_out';

/** Where a consent event came from. Client-recorded opt-ins carry the client's own source (e.g. `web_form`). */
export const CONSENT_SOURCES = {
  /** `user_authorized=true` on a send: the client says the user opted in. Does not lift an opt-out. */
  API_SEND: 'api_send',
  KEYWORD: 'keyword',
  /** WhatsApp's own marketing-messages preference (user_preferences webhook). */
  WHATSAPP_PREFERENCE: 'whatsapp_preference',
  /** A send refused by WhatsApp with error 131050 (the user stopped marketing messages). */
  MARKETING_OPT_OUT: 'whatsapp_131050',
  INBOUND_FLOW: 'inbound_flow',
} as const;

/** One opt-in or opt-out of a user with a tenant. Append-only. */
@Entity('consents')
export class Consent {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  /** E.164. */
  @Column('text') phone: string;
  @Column('text') kind: ConsentKind;
  @Column('text') source: string;
  /** When it was given (the user's message time, the client's date). */
  @Column('timestamptz') occurredAt: Date;
  @Column('timestamptz') recordedAt: Date;
  @Column('text', { nullable: true }) apiKeyId: string | null;
  @Column('text', { nullable: true }) lineId: string | null;
  @Column('text', { nullable: true }) evidence: string | null;
  /** Whether this opt-in lifts an earlier opt-out (opt-outs: always false). */
  @Column('boolean') liftsOptOut: boolean;
}
