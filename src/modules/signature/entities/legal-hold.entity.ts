import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A legal hold: the process's evidence is kept past its retention until the hold is released. */
@Entity('legal_holds')
export class LegalHold {
  @PrimaryColumn('text') processId: string;
  @Column('text') tenantId: string;
  @Column('text', { nullable: true }) reason: string | null;
  @Column('timestamptz') heldAt: Date;
}
