import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Piscina } from 'piscina';
import { renderCertificate, type CertificateModel } from './certificate-pdf.js';

const WORKER = new URL('./certificate-worker.js', import.meta.url);

/** The lowest CPU priority (nice 19): the thread runs on what the conversations and PostgreSQL leave idle. */
const LOWEST_PRIORITY = 19;

/**
 * Renders certificates of evidence in one worker thread at the lowest CPU priority. A certificate is ~80 ms of
 * pdfkit work: on the event loop, the certificates of a busy hour's finished processes delayed every answer behind
 * them (the conversations benchmark fell from ~700 to ~100 answers/s). In a thread of its own at nice 19 it never
 * takes CPU from the engine; certificates wait in their job queue while the machine is busy, and catch up after.
 * From the TypeScript sources (Jest) there is no built worker file: rendering then runs in this thread.
 */
@Injectable()
export class CertificateRenderer implements OnApplicationShutdown {
  private readonly pool = existsSync(fileURLToPath(WORKER))
    ? new Piscina<CertificateModel, Uint8Array>({ filename: WORKER.href, minThreads: 0, maxThreads: 1, idleTimeout: 60_000, niceIncrement: LOWEST_PRIORITY })
    : null;

  /** Whether rendering runs in the worker thread (the built service). */
  get threaded(): boolean {
    return this.pool !== null;
  }

  async render(model: CertificateModel): Promise<Buffer> {
    if (!this.pool) return renderCertificate(model);
    const bytes = await this.pool.run(model);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** After the job runner has drained (beforeApplicationShutdown), so no render in flight is cut off. */
  async onApplicationShutdown(): Promise<void> {
    await this.pool?.destroy();
  }
}
