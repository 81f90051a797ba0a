import { Module, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { FileSigningKey } from './file-signing-key.adapter.js';
import { PdfSigning } from './pdf-signing.service.js';
import { SigningController } from './signing.controller.js';
import { SigningKey } from './signing-key.port.js';

/**
 * The signing core: the SigningKey port (file adapter: PKCS#12 or a generated trial CA), PAdES signing of PDFs, the
 * signature page, and the public certificate chain. No database access.
 */
@Module({
  controllers: [SigningController],
  providers: [{ provide: SigningKey, inject: [AppConfig], useFactory: (config: AppConfig) => new FileSigningKey(config) }, PdfSigning],
  exports: [SigningKey, PdfSigning],
})
export class SigningModule implements OnApplicationBootstrap {
  constructor(private readonly key: SigningKey) {}

  /** Loads (or on a trial's first start, generates) the key now: a bad key stops the start, not the first signature. */
  async onApplicationBootstrap(): Promise<void> {
    await this.key.chain();
  }
}
