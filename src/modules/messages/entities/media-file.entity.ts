import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A file: one a user sent, downloaded at once (provider links expire in minutes), or one the service stores to send
 * (no message, line or provider id). Its bytes are in the FileStore under `storageKey` (their SHA-256); rows stored
 * before the FileStore keep them in `data`.
 */
@Entity('media_files')
export class MediaFile {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text', { nullable: true }) messageId: string | null;
  @Column('text', { nullable: true }) lineId: string | null;
  @Column('text', { nullable: true }) providerMediaId: string | null;
  @Column('text') status: 'pending' | 'stored' | 'failed';
  @Column('text', { nullable: true }) mimeType: string | null;
  @Column('int', { nullable: true }) sizeBytes: number | null;
  @Column('text', { nullable: true }) sha256: string | null;
  @Column('text', { nullable: true }) filename: string | null;
  @Column('text', { nullable: true }) storageKey: string | null;
  /** Bytes of files stored before the FileStore; NULL for every newer file. */
  @Column('bytea', { nullable: true, select: false }) data: Buffer | null;
  @Column('int', { default: 0 }) attempts: number;
  @Column('text', { nullable: true }) error: string | null;
  @Column('timestamptz') createdAt: Date;
  @Column('timestamptz', { nullable: true }) storedAt: Date | null;
}
