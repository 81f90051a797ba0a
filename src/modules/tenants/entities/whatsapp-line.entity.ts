import { Column, CreateDateColumn, DeleteDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

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
  @Column('jsonb', { default: {} }) secrets: LineSecrets;
  @Column('int', { default: 80 }) throughputMps: number;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
  @DeleteDateColumn({ type: 'timestamptz' }) deletedAt: Date | null;
}
