import { Column, Entity, PrimaryColumn } from 'typeorm';

export const FLOW_STATUSES = ['active', 'archived'] as const;
export type FlowStatus = (typeof FLOW_STATUSES)[number];

/** A flow's identity and state; its content lives in `flow_versions`, one immutable row per version. */
@Entity('flows')
export class Flow {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  /** The latest version's name, kept here for listing. */
  @Column('text') name: string;
  @Column('text') status: FlowStatus;
  @Column('int') latestVersion: number;
  @Column('timestamptz') createdAt: Date;
  @Column('timestamptz') updatedAt: Date;
  @Column('timestamptz', { nullable: true }) archivedAt: Date | null;
}
