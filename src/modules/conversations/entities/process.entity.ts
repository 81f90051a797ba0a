import { Column, Entity, PrimaryColumn } from 'typeorm';

export const PROCESS_STATUSES = ['pending', 'succeeded', 'failed', 'expired', 'cancelled'] as const;
export type ProcessStatus = (typeof PROCESS_STATUSES)[number];

/** One run of a flow with one user on one line. At most one `pending` process per (line, user). */
@Entity('processes')
export class Process {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') lineId: string;
  /** E.164. */
  @Column('text') phone: string;
  @Column('text') flowId: string;
  @Column('int') flowVersion: number;
  @Column('text') origin: 'inbound' | 'outbound';
  /** The inbound, or the outbound send, that started it. */
  @Column('text', { nullable: true }) originId: string | null;
  @Column('text') status: ProcessStatus;
  @Column('text', { nullable: true }) failureReason: string | null;
  /** The step waiting for the user's answer. */
  @Column('text', { nullable: true }) currentStepId: string | null;
  /** Invalid answers given to the current step. */
  @Column('int', { default: 0 }) stepAttempts: number;
  @Column('timestamptz', { nullable: true }) askedAt: Date | null;
  @Column('timestamptz') startedAt: Date;
  @Column('timestamptz', { nullable: true }) finishedAt: Date | null;
  @Column('timestamptz') expiresAt: Date;
  @Column('timestamptz') updatedAt: Date;
  /** The head of the process's evidence chain: the last seq (0: none yet) and its hash. */
  @Column('int', { default: 0 }) evidenceSeq: number;
  @Column('text', { nullable: true }) evidenceHead: string | null;
  /** When its personal data and evidence payloads were purged after retention (its status and chain head stay). */
  @Column('timestamptz', { nullable: true }) purgedAt: Date | null;
}
