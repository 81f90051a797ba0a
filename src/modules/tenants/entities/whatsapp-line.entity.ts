import { Column, CreateDateColumn, DeleteDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { sealedJsonFields } from '../../../common/secrets/sealed-columns.js';

export const PROVIDERS = ['sandbox', 'cloud_api', 'bsp'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Write-only provider credentials: used to call the provider, never returned by the API. */
export interface LineSecrets {
  access_token?: string;
  app_secret?: string;
  verify_token?: string;
  api_key?: string;
  /** SHA-256 (hex) of a BSP line's webhook token (`?token=`), for lines without an app secret. */
  webhook_token_sha256?: string;
}

/** The fields of LineSecrets sealed at rest (AES-256-GCM under SECRETS_KEY). */
export const SEALED_LINE_SECRETS = ['access_token', 'app_secret', 'verify_token', 'api_key'] as const;
/** Matched by value on the webhook handshake: a keyed hash (`verify_token_hmac`) is kept beside the sealed value. */
export const LOOKUP_LINE_SECRETS = ['verify_token'] as const;

/** A business's WhatsApp number (WABA phone number) and how to reach it. */
@Entity('whatsapp_lines')
export class WhatsappLine {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  /** E.164. */
  @Column('text') phoneNumber: string;
  @Column('text') provider: ProviderName;
  @Column('text', { nullable: true }) phoneNumberId: string | null;
  @Column('text', { nullable: true }) wabaId: string | null;
  @Column('text', { nullable: true }) baseUrl: string | null;
  /** Sealed at rest; entities hold the opened values (see sealedJsonFields). */
  @Column('jsonb', { default: {}, transformer: sealedJsonFields(SEALED_LINE_SECRETS, LOOKUP_LINE_SECRETS) }) secrets: LineSecrets;
  @Column('int', { default: 80 }) throughputMps: number;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
  @DeleteDateColumn({ type: 'timestamptz' }) deletedAt: Date | null;
}
