import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { FilesService } from '../messages/files.service.js';
import { documentNotFound } from './documents.errors.js';
import { Document } from './entities/document.entity.js';
import { inspectPdf } from './pdf-inspection.js';

/** What other modules get of a document. */
export interface DocumentInfo {
  id: string;
  tenantId: string;
  title: string;
  filename: string;
  sha256: string;
  pages: number;
  sizeBytes: number;
  /** The stored file holding the bytes (`/v1/files/{fileId}/content`, `FilesService`). */
  fileId: string;
  createdAt: Date;
  /** The document this one was made from (a signed copy's original), or null for an upload. */
  derivedFrom: string | null;
}

export interface StoreOptions {
  title: string;
  filename: string;
  derivedFrom?: string | null;
  /** The field named by errors (INVALID_PDF, PDF_ENCRYPTED). */
  field?: string;
}

const info = (d: Document): DocumentInfo => ({
  id: d.id,
  tenantId: d.tenantId,
  title: d.title,
  filename: d.filename,
  sha256: d.sha256,
  pages: d.pages,
  sizeBytes: d.sizeBytes,
  fileId: d.fileId,
  createdAt: d.createdAt,
  derivedFrom: d.derivedFrom,
});

/**
 * Contract documents: PDFs checked by parsing, stored as files of the tenant (FilesService, the FileStore), never
 * changed. Other modules store derived copies (a signed contract) through `store`, which a retry may repeat safely.
 */
@Injectable()
export class DocumentsService {
  constructor(
    @InjectRepository(Document) private readonly documents: Repository<Document>,
    private readonly files: FilesService,
    private readonly clock: Clock,
  ) {}

  /** An upload: a new document each time, even for bytes the tenant uploaded before. */
  async upload(tenantId: string, bytes: Buffer, meta: { title: string; filename: string }): Promise<DocumentInfo> {
    const { pages } = await inspectPdf(bytes, 'file');
    return info(await this.insert(tenantId, bytes, pages, { ...meta, derivedFrom: null }));
  }

  /**
   * Stores a PDF the service made (checked like an upload). Idempotent: when the tenant already has a document with
   * these bytes made from the same source (`derivedFrom`, or none), that one is returned and nothing is added.
   */
  async store(tenantId: string, bytes: Uint8Array, options: StoreOptions): Promise<DocumentInfo> {
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const derivedFrom = options.derivedFrom ?? null;
    if (derivedFrom && !(await this.documents.existsBy({ tenantId, id: derivedFrom }))) throw documentNotFound(derivedFrom, 'derived_from');
    const sha256 = createHash('sha256').update(buffer).digest('hex');
    const existing = await this.findStored(tenantId, sha256, derivedFrom);
    if (existing) return info(existing);
    const { pages } = await inspectPdf(buffer, options.field ?? 'file');
    const inserted = await this.insert(tenantId, buffer, pages, { title: options.title, filename: options.filename, derivedFrom });
    return info(inserted);
  }

  /** The tenant's document, or null (another tenant's too). */
  async find(tenantId: string, documentId: string): Promise<DocumentInfo | null> {
    const d = await this.documents.findOneBy({ tenantId, id: documentId });
    return d ? info(d) : null;
  }

  /** The tenant's document; 404 DOCUMENT_NOT_FOUND (naming `field` when given) otherwise. */
  async get(tenantId: string, documentId: string, field?: string): Promise<DocumentInfo> {
    const d = await this.find(tenantId, documentId);
    if (!d) throw documentNotFound(documentId, field);
    return d;
  }

  /** The documents made from `documentId` (its signed copies), oldest first. */
  async derivedFrom(tenantId: string, documentId: string): Promise<DocumentInfo[]> {
    const rows = await this.documents.find({ where: { tenantId, derivedFrom: documentId }, order: { id: 'ASC' } });
    return rows.map(info);
  }

  async list(tenantId: string, page: PageQueryDto): Promise<{ items: DocumentInfo[]; next_cursor: string | null }> {
    const { items, next_cursor } = await paginate(this.documents.createQueryBuilder('d').where('d.tenant_id = :tenantId', { tenantId }), page);
    return { items: items.map(info), next_cursor };
  }

  /** The whole PDF. */
  /** Deletes a document and its file (custody purge of a signed copy), in `m`'s transaction. */
  async remove(m: EntityManager, tenantId: string, documentId: string): Promise<void> {
    const doc = await m.findOneBy(Document, { id: documentId, tenantId });
    if (!doc) return;
    await m.delete(Document, { id: documentId });
    await this.files.remove(m, [doc.fileId]);
  }

  async bytes(tenantId: string, documentId: string): Promise<Uint8Array> {
    const d = await this.get(tenantId, documentId);
    return this.files.read(await this.files.get(tenantId, d.fileId));
  }

  /** The PDF as a stream, for downloads. */
  async open(tenantId: string, doc: DocumentInfo): Promise<{ stream: Readable; sizeBytes: number }> {
    return this.files.open(await this.files.get(tenantId, doc.fileId));
  }

  private findStored(tenantId: string, sha256: string, derivedFrom: string | null): Promise<Document | null> {
    return this.documents.findOne({ where: { tenantId, sha256, derivedFrom: derivedFrom ?? IsNull() }, order: { id: 'ASC' } });
  }

  private async insert(tenantId: string, bytes: Buffer, pages: number, meta: { title: string; filename: string; derivedFrom: string | null }): Promise<Document> {
    const file = await this.files.keep(tenantId, bytes, { mimeType: 'application/pdf', filename: meta.filename });
    const doc = this.documents.create({
      id: newId('DOC'),
      tenantId,
      title: meta.title,
      filename: meta.filename,
      sha256: file.sha256!,
      pages,
      sizeBytes: file.sizeBytes!,
      fileId: file.id,
      derivedFrom: meta.derivedFrom,
      createdAt: this.clock.now(),
    });
    if (!meta.derivedFrom) {
      await this.documents.insert(doc);
      return doc;
    }
    // A concurrent store of the same copy may have won: its row is the answer (the unique index keeps one).
    const inserted: unknown[] = await this.documents.query(
      `INSERT INTO documents (id, tenant_id, title, filename, sha256, pages, size_bytes, file_id, derived_from, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (tenant_id, derived_from, sha256) WHERE derived_from IS NOT NULL DO NOTHING RETURNING id`,
      [doc.id, tenantId, doc.title, doc.filename, doc.sha256, doc.pages, doc.sizeBytes, doc.fileId, doc.derivedFrom, doc.createdAt],
    );
    if (inserted.length > 0) return doc;
    return (await this.findStored(tenantId, doc.sha256, meta.derivedFrom))!;
  }
}
