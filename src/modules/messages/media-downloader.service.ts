import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { GiveUp } from '../../common/jobs/job-outcomes.js';
import { Jobs, type JobRun } from '../../common/jobs/jobs.service.js';
import { FILE_STORE, type FileStore } from '../../storage/file-store.port.js';
import { ProviderError } from '../../whatsapp/provider-error.js';
import { WhatsappProviders } from '../../whatsapp/whatsapp-providers.js';
import { LinesService, lineCredentials } from '../tenants/lines.service.js';
import { MediaFile } from './entities/media-file.entity.js';

/** The job queue of inbound media downloads; a job per media file, enqueued with the message that brought it. */
export const MEDIA_DOWNLOAD = 'media.download';

export interface MediaDownloadJob {
  mediaFileId: string;
}

/**
 * Downloads inbound media right after the message is recorded (provider links expire in minutes) and keeps the
 * bytes in the FileStore under their SHA-256. Runs as jobs of the shared runner: failures are retried with backoff,
 * and the file is marked failed when they run out; the message itself is kept either way.
 */
@Injectable()
export class MediaDownloaderService {
  private readonly logger = new Logger(MediaDownloaderService.name);

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly providers: WhatsappProviders,
    private readonly lines: LinesService,
    @Inject(FILE_STORE) private readonly store: FileStore,
    private readonly jobs: Jobs,
  ) {
    jobs.register<MediaDownloadJob>(MEDIA_DOWNLOAD, (job, run) => this.download(job, run), {
      concurrency: 10,
      maxAttempts: 6,
      backoff: { baseMs: 2000, capMs: 10 * 60_000 },
      onGiveUp: (m, job) => this.markFailed(m, job),
    });
  }

  /** Enqueues the downloads of these new files in the caller's transaction (one statement, whatever their number). */
  enqueue(manager: EntityManager, files: Array<Pick<MediaFile, 'id'>>): Promise<void> {
    return this.jobs.enqueueMany<MediaDownloadJob>(
      manager,
      MEDIA_DOWNLOAD,
      files.map((f) => ({ payload: { mediaFileId: f.id }, key: f.id })),
    );
  }

  /** Runs the downloads that are due once; returns how many were tried. */
  downloadDue(limit = 10): Promise<number> {
    return this.jobs.runDue(MEDIA_DOWNLOAD, limit);
  }

  private async download({ mediaFileId }: MediaDownloadJob, run: JobRun): Promise<void> {
    const repo = this.ds.getRepository(MediaFile);
    const file = await repo.findOneBy({ id: mediaFileId });
    if (!file || file.status !== 'pending') return;
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
        attempts: run.attempt,
        storedAt: this.clock.now(),
        error: null,
      });
    } catch (err) {
      // Provider errors are already worded for tenants; anything else stays in the logs.
      if (!(err instanceof ProviderError)) this.logger.error({ err, mediaFileId: file.id }, 'media download failed');
      const error = (err instanceof ProviderError ? `${err.code}: ${err.message}` : 'INTERNAL: the download failed').slice(0, 500);
      await repo.update(file.id, { attempts: run.attempt, error });
      // Any failure but bad credentials or a file over the cap is retried a few times: a media id the provider does
      // not know yet may appear.
      if (err instanceof ProviderError && (err.code === 'AUTH' || err.code === 'RESPONSE_TOO_LARGE')) throw new GiveUp(error);
      throw err;
    }
  }

  private async markFailed(m: EntityManager, { mediaFileId }: MediaDownloadJob): Promise<void> {
    await m.update(MediaFile, { id: mediaFileId, status: 'pending' }, { status: 'failed' });
  }
}
