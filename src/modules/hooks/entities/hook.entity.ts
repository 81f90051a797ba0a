import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { sealedText } from '../../../common/secrets/sealed-columns.js';

/** A client endpoint subscribed to some events. */
@Entity('hooks')
export class Hook {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') url: string;
  @Column('text', { array: true }) events: string[];
  /** Empty: every flow. Otherwise only events of processes of these flows. */
  @Column('text', { array: true, default: () => "'{}'" }) flowIds: string[];
  @Column('boolean', { default: true }) active: boolean;
  /** `whsec_…`; needed in clear to sign, never returned after creation or rotation; sealed at rest. */
  @Column('text', { select: false, transformer: sealedText }) secret: string;
  @Column('text', { nullable: true, select: false, transformer: sealedText }) previousSecret: string | null;
  @Column('timestamptz', { nullable: true }) previousSecretExpiresAt: Date | null;
  /** First failed attempt since the last success; null while the endpoint is healthy. */
  @Column('timestamptz', { nullable: true }) failingSince: Date | null;
  @Column('text', { nullable: true }) disabledReason: string | null;
  @Column('timestamptz', { nullable: true }) disabledAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
