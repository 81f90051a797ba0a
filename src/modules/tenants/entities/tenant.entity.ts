import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { sealedJsonFields } from '../../../common/secrets/sealed-columns.js';
import type { SmsSettings } from '../../../sms/sms.types.js';

export interface TenantSettings {
  /** Text sent when a user's message matches nothing (no active process, no inbound). */
  fallback_text?: string;
  stop_keywords?: string[];
  start_keywords?: string[];
  exit_keywords?: string[];
  /** Days a finished process's evidence stays in custody (DEFAULT_EVIDENCE_RETENTION_DAYS when unset). */
  evidence_retention_days?: number;
  /** Days message bodies and media of a finished process are kept; unset: MESSAGES_RETENTION_DAYS. */
  messages_retention_days?: number;
}

/** Five years. */
export const DEFAULT_EVIDENCE_RETENTION_DAYS = 1825;

export { DEFAULT_KEYWORDS } from '../default-keywords.js';

@Entity('tenants')
export class Tenant {
  @PrimaryColumn('text') id: string;
  @Column('text') name: string;
  @Column('jsonb', { default: {} }) settings: TenantSettings;
  /** The tenant's own API-key rate limit; null: RATE_LIMIT_PER_SECOND / RATE_LIMIT_BURST. */
  /** The SMS provider (`PATCH /v1/settings` → `sms`); `auth_token` sealed at rest. Null: no SMS. */
  @Column('jsonb', { nullable: true, transformer: sealedJsonFields(['auth_token']) }) sms: SmsSettings | null;
  @Column('int', { nullable: true }) rateLimitPerSecond: number | null;
  @Column('int', { nullable: true }) rateLimitBurst: number | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
