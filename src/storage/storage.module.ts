import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import path from 'node:path';
import { AppConfig } from '../config/app-config.js';
import { FILE_STORE, type FileStore } from './file-store.port.js';
import { LocalDiskFileStore } from './local-disk.adapter.js';
import { S3FileStore } from './s3.adapter.js';

/** The FileStore the configuration names (FILE_STORE): one per process. No database access here. */
export function fileStoreFor(config: AppConfig): FileStore {
  if (config.FILE_STORE === 's3') {
    return new S3FileStore({
      endpoint: config.S3_ENDPOINT,
      bucket: config.S3_BUCKET!,
      region: config.S3_REGION,
      accessKeyId: config.S3_ACCESS_KEY_ID,
      secretAccessKey: config.S3_SECRET_ACCESS_KEY,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
    });
  }
  return new LocalDiskFileStore(path.resolve(config.filesDir));
}

@Global()
@Module({
  providers: [{ provide: FILE_STORE, inject: [AppConfig], useFactory: fileStoreFor }],
  exports: [FILE_STORE],
})
export class StorageModule implements OnApplicationShutdown {
  constructor(@Inject(FILE_STORE) private readonly store: FileStore) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.store instanceof S3FileStore) await this.store.close();
  }
}
