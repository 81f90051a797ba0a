import { Inject, Injectable, Logger } from '@nestjs/common';
import { queryReturning } from '../../database/sql.js';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import type { WorkerLoop } from '../../common/workers/worker-loop.js';
import { Workers } from '../../common/workers/workers.js';
import { FILE_STORE, type FileStore } from '../../storage/file-store.port.js';
import { ProviderError } from '../../whatsapp/provider-error.js';
import { WhatsappProviders } from '../../whatsapp/whatsapp-providers.js';
import { LinesService, lineCredentials } from '../tenants/lines.service.js';
import { MediaFile } from './entities/media-file.entity.js';

const MAX_ATTEMPTS = 6;

/**
 * Downloads inbound media right after the message is recorded (provider links expire in minutes) and keeps the
 * bytes in the FileStore under their SHA-256. Failures are retried with backoff; the message itself is kept either way.
 */
@Injectable()
export class MediaDownloaderService {
  private readonly logger = new Logger(MediaDownloaderService.name);
  private readonly worker: WorkerLoop;

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly providers: WhatsappProviders,
    private readonly lines: LinesService,
    @Inject(FILE_STORE) private readonly store: FileStore,
    workers: Workers,
  ) {
    this.worker = workers.loop('MediaDownloader', () => this.downloadDue(), 250);
  }

  /** Downloads pending files that are due; returns how many were tried. */
  async downloadDue(limit = 10): Promise<number> {
    const now = this.clock.now();
    const claimed: MediaFile[] = await this.ds.transaction(async (m) => {
      const rows = await queryReturning<{ id: string }>(m, 
        `UPDATE media_files SET next_attempt_at = $2 WHERE id IN (
           SELECT id FROM media_files WHERE status = 'pending' AND next_attempt_at <= $1
           ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id`,
        [now, new Date(now.getTime() + 5 * 60_000), limit],
      );
      return rows.length ? m.getRepository(MediaFile).findBy(rows.map((r) => ({ id: r.id }))) : [];
    });
    await Promise.all(claimed.map((f) => this.download(f)));
    return claimed.length;
  }

  private async download(file: MediaFile): Promise<void> {
    const repo = this.ds.getRepository(MediaFile);
    const line = file.lineId ? await this.lines.findByIdWithDeleted(file.lineId) : null;
    try {
      if (!line || !file.providerMediaId) throw new ProviderError('AUTH', false, 'line not found');
      const { data, mimeType } = await this.providers.for(line).downloadMedia(lineCredentials(line), file.providerMediaId);
      // Bytes first: a row marked stored always has its bytes in the store (a crash between leaves an unnamed copy).
      const stored = await this.store.put(data);
      await repo.update(file.id, {
        status: 'stored',
        storageKey: stored.key,
        mimeType,
        sizeBytes: stored.sizeBytes,
        sha256: stored.sha256,
        attempts: file.attempts + 1,
        storedAt: this.clock.now(),
        nextAttemptAt: null,
        error: null,
      });
    } catch (err) {
      const attempts = file.attempts + 1;
      // Any failure but bad credentials or a file over the cap is retried a few times: a media id the provider does not
      // know yet may appear.
      const final = err instanceof ProviderError && (err.code === 'AUTH' || err.code === 'RESPONSE_TOO_LARGE');
      const retry = attempts < MAX_ATTEMPTS && !final;
      // Provider errors are already worded for tenants; anything else stays in the logs.
      if (!(err instanceof ProviderError)) this.logger.error({ err, mediaFileId: file.id }, 'media download failed');
      await repo.update(file.id, {
        status: retry ? 'pending' : 'failed',
        attempts,
        nextAttemptAt: retry ? new Date(this.clock.now().getTime() + 2 ** attempts * 1000) : null,
        error: (err instanceof ProviderError ? `${err.code}: ${err.message}` : 'INTERNAL: the download failed').slice(0, 500),
      });
    }
  }
}
