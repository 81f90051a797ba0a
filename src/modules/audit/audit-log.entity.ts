import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One configuration change, as it was made. Rows are never updated or deleted (a trigger refuses it). */
@Entity('audit_log')
export class AuditLogEntry {
  @PrimaryColumn('text') id: string;
  /** The tenant whose configuration changed (null only for an admin action that concerns no tenant). */
  @Column('text', { nullable: true }) tenantId: string | null;
  /** The API key id that made the change, or `admin` for the admin token. */
  @Column('text') actor: string;
  @Column('text') resourceType: string;
  @Column('text', { nullable: true }) resourceId: string | null;
  @Column('text') action: string;
  /** The fields the request set, every secret redacted. */
  @Column('jsonb') changes: object;
  @Column('text') requestId: string;
  @Column('text', { nullable: true }) clientIp: string | null;
  @Column('text') method: string;
  @Column('text') path: string;
  @Column('timestamptz') occurredAt: Date;
}
