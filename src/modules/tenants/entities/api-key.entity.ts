import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { API_KEY_SCOPES, type ApiKeyScope } from '../../../common/auth/api-key-resolver.js';

export { API_KEY_SCOPES, type ApiKeyScope };

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
  /** After this the key is refused (401). Null: no expiry. */
  @Column('timestamptz', { nullable: true }) expiresAt: Date | null;
  @Column('text', { array: true, default: () => "'{read,write}'" }) scopes: ApiKeyScope[];
  /** Recorded at most once a minute per key and process (see ApiKeysService.touch). */
  @Column('timestamptz', { nullable: true }) lastUsedAt: Date | null;
  @Column('text', { nullable: true }) lastUsedIp: string | null;
}
