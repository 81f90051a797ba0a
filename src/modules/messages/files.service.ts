import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { newId } from '../../common/ids/ids.js';
import { FILE_STORE, type FileStore } from '../../storage/file-store.port.js';
import { MediaFile } from './entities/media-file.entity.js';
import { fileNotStored } from './files.errors.js';

/** Where a file's content is served from: `/v1/files/{id}/content`. */
export const contentUrl = (id: string) => `/v1/files/${id}/content`;

export interface FileSummary {
  id: string;
  status: string;
  mime_type: string | null;
  sha256: string | null;
  size_bytes: number | null;
}

/**
 * Stored files of a tenant (media_files) and their bytes, kept in the FileStore. Files stored before the FileStore
 * have their bytes in `media_files.data` and are read from there.
 */
@Injectable()
export class FilesService {
  constructor(
    @InjectRepository(MediaFile) private readonly files: Repository<MediaFile>,
    @Inject(FILE_STORE) private readonly fileStore: FileStore,
    private readonly clock: Clock,
  ) {}

  /** What other modules show of stored files (a process's answers), read in the caller's transaction. */
  async summaries(manager: EntityManager, ids: string[]): Promise<FileSummary[]> {
    if (ids.length === 0) return [];
    return manager.query(`SELECT id, status, mime_type, sha256, size_bytes FROM media_files WHERE id = ANY($1)`, [ids]);
  }

  /** Keeps bytes the service will send (a contract document, a signed PDF) as a stored file of the tenant. */
  async keep(tenantId: string, bytes: Buffer, meta: { mimeType: string; filename?: string | null }): Promise<MediaFile> {
    const stored = await this.fileStore.put(bytes);
    const now = this.clock.now();
    const file = this.files.create({
      id: newId('MED'),
      tenantId,
      messageId: null,
      lineId: null,
      providerMediaId: null,
      status: 'stored',
      mimeType: meta.mimeType,
      filename: meta.filename ?? null,
      sizeBytes: stored.sizeBytes,
      sha256: stored.sha256,
      storageKey: stored.key,
      attempts: 0,
      error: null,
      createdAt: now,
      storedAt: now,
    });
    await this.files.insert(file);
    return file;
  }

  /**
   * Deletes files (retention, custody purge) in `m`'s transaction, and then their bytes when no other file names the
   * same content (the store is content-addressed: two files of the same bytes share them).
   */
  async remove(m: EntityManager, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [gone] = (await m.query(`DELETE FROM media_files WHERE id = ANY($1) RETURNING storage_key`, [ids])) as [Array<{ storage_key: string | null }>, number];
    const keys = [...new Set(gone.map((g) => g.storage_key).filter((k): k is string => !!k))];
    if (keys.length) {
      const kept: Array<{ storage_key: string }> = await m.query(`SELECT DISTINCT storage_key FROM media_files WHERE storage_key = ANY($1)`, [keys]);
      const still = new Set(kept.map((k) => k.storage_key));
      // After the rows are gone in this transaction; a rollback leaves rows whose bytes are gone, which read as FILE_NOT_STORED.
      for (const key of keys) if (!still.has(key)) await this.fileStore.delete(key);
    }
    return gone.length;
  }

  /** A stored file of the tenant; another tenant's is NOT_FOUND, one without bytes (yet) FILE_NOT_STORED. */
  async get(tenantId: string, id: string): Promise<MediaFile> {
    const file = await this.files.findOneBy({ id, tenantId });
    if (!file) throw AppError.notFound('File', id);
    if (file.status !== 'stored') throw fileNotStored(id, file.status);
    return file;
  }

  /** The file's bytes as a stream, from the store or, for a file stored the old way, from its row. */
  async open(file: MediaFile): Promise<{ stream: Readable; sizeBytes: number }> {
    if (file.storageKey) return this.fileStore.open(file.storageKey);
    const data = await this.legacyBytes(file.id);
    return { stream: Readable.from([data]), sizeBytes: data.length };
  }

  /** The whole file (sends upload it in one request). */
  async read(file: MediaFile): Promise<Buffer> {
    return file.storageKey ? this.fileStore.read(file.storageKey) : this.legacyBytes(file.id);
  }

  private async legacyBytes(id: string): Promise<Buffer> {
    const row = await this.files.createQueryBuilder('f').addSelect('f.data').where('f.id = :id', { id }).getOne();
    if (!row?.data) throw fileNotStored(id, 'stored without content');
    return row.data;
  }
}
