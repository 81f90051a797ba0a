import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A PDF of a tenant, never changed: a derived file (a signed copy) is a new row naming its source in `derivedFrom`. */
@Entity('documents')
export class Document {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') title: string;
  @Column('text') filename: string;
  @Column('text') sha256: string;
  @Column('int') pages: number;
  @Column('int') sizeBytes: number;
  /** The stored file (media_files) holding the bytes. */
  @Column('text') fileId: string;
  @Column('text', { nullable: true }) derivedFrom: string | null;
  @Column('timestamptz') createdAt: Date;
}
