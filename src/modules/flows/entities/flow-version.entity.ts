import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { FlowDefinition } from '../flow-definition.js';

/** One immutable version of a flow (a database trigger refuses updates). */
@Entity('flow_versions')
export class FlowVersion {
  @PrimaryColumn('text') flowId: string;
  @PrimaryColumn('int') version: number;
  @Column('jsonb') definition: FlowDefinition;
  @Column('timestamptz') createdAt: Date;
}
