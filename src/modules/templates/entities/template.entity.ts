import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AuthenticationOptions, TemplateCategory, TemplateStatus, TextTemplateDefinition } from '../../../whatsapp/whatsapp.types.js';

export { TEMPLATE_STATUSES } from '../../../whatsapp/whatsapp.types.js';
export type SubmissionState = 'pending' | 'submitted' | 'failed';

/** A WhatsApp message template of one line, as submitted to the provider, and where its approval stands. */
@Entity('templates')
export class Template {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') lineId: string;
  /** Generated, lowercase and unique: `tg_<ulid>`. */
  @Column('text') name: string;
  @Column('text') language: string;
  @Column('text') category: TemplateCategory;
  /** Body text with {{1}}..{{n}} (an authentication template: Meta's preset wording, kept for showing it). */
  @Column('text') body: string;
  @Column('jsonb') bodyExamples: string[];
  @Column('jsonb', { nullable: true }) header: TextTemplateDefinition['header'] | null;
  @Column('jsonb') quickReplies: string[];
  /**
   * Set on an AUTHENTICATION template with a copy-code button (Meta fixes its text; these are its options). One per
   * line and language (a unique index): made on first use and reused.
   */
  @Column('jsonb', { nullable: true }) authentication: AuthenticationOptions | null;
  @Column('text') status: TemplateStatus;
  @Column('text', { nullable: true }) rejectionReason: string | null;
  @Column('text', { nullable: true }) providerTemplateId: string | null;
  /** pending: not yet accepted by the provider (its submission job retries); failed: the provider refused it for good. */
  @Column('text') submissionState: SubmissionState;
  @Column('int') submitAttempts: number;
  @Column('text', { nullable: true }) submitError: string | null;
  @Column('timestamptz') createdAt: Date;
  @Column('timestamptz') updatedAt: Date;
}
