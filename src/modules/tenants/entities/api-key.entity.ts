import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('api_keys')
export class ApiKey {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') name: string;
  /** First characters of the key, to tell keys apart in listings. */
  @Column('text') keyPrefix: string;
  /** SHA-256 of the key; the key itself is never stored. */
  @Column('text', { select: false }) keyHash: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { nullable: true }) revokedAt: Date | null;
}
