import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TemplateCategory, TemplateDefinition, TemplateStatus } from '../../../whatsapp/whatsapp.types.js';

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
  /** Body text with {{1}}..{{n}}. */
  @Column('text') body: string;
  @Column('jsonb') bodyExamples: string[];
  @Column('jsonb', { nullable: true }) header: TemplateDefinition['header'] | null;
  @Column('jsonb') quickReplies: string[];
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
