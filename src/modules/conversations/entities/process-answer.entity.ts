import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Every answer a user gave, valid or not, in order. */
@Entity('process_answers')
export class ProcessAnswer {
  @PrimaryColumn('text') id: string;
  @Column('text') processId: string;
  @Column('text') stepId: string;
  @Column('text') stepType: string;
  @Column('text', { nullable: true }) value: string | null;
  @Column('text', { nullable: true }) normalized: string | null;
  @Column('boolean') valid: boolean;
  @Column('text', { nullable: true }) error: string | null;
  @Column('text', { nullable: true }) messageId: string | null;
  @Column('text', { nullable: true }) mediaFileId: string | null;
  @Column('timestamptz') createdAt: Date;
}
