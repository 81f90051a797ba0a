import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { checkKey, FileNotInStoreError, keyPath, type FileStore, type StoredFile } from './file-store.port.js';

export interface S3Settings {
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

type Sdk = typeof import('@aws-sdk/client-s3');

/**
 * Files in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2…) at `ab/cd/<sha256>`. An object appears whole or not at
 * all (a PUT is atomic in S3), so no temporary names are needed; a put first asks whether the key exists. The SDK is
 * loaded on first use: instances on the local store never load it.
 */
export class S3FileStore implements FileStore {
  private client: Promise<{ sdk: Sdk; s3: S3Client }> | null = null;

  constructor(private readonly settings: S3Settings) {}

  async put(bytes: Buffer): Promise<StoredFile> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const stored = { key: sha256, sha256, sizeBytes: bytes.length };
    if (await this.has(sha256)) return stored;
    const { sdk, s3 } = await this.connect();
    await s3.send(
      new sdk.PutObjectCommand({
        Bucket: this.settings.bucket,
        Key: keyPath(sha256),
        Body: bytes,
        ContentLength: bytes.length,
        ContentType: 'application/octet-stream',
        // The store checks the bytes it received against the digest they are named by.
        ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
      }),
    );
    return stored;
  }

  async open(key: string): Promise<{ stream: Readable; sizeBytes: number }> {
    const { sdk, s3 } = await this.connect();
    try {
      const res = await s3.send(new sdk.GetObjectCommand({ Bucket: this.settings.bucket, Key: keyPath(checkKey(key)) }));
      const body = res.Body as Readable | undefined;
      if (!body) throw new FileNotInStoreError(key);
      return { stream: body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>), sizeBytes: Number(res.ContentLength ?? 0) };
    } catch (err) {
      throw notFound(err) ? new FileNotInStoreError(key) : err;
    }
  }

  async read(key: string): Promise<Buffer> {
    const { stream } = await this.open(key);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }

  async delete(key: string): Promise<void> {
    const { sdk, s3 } = await this.connect();
    // S3 answers a delete of a missing key with success.
    await s3.send(new sdk.DeleteObjectCommand({ Bucket: this.settings.bucket, Key: keyPath(checkKey(key)) }));
  }

  async has(key: string): Promise<boolean> {
    const { sdk, s3 } = await this.connect();
    try {
      await s3.send(new sdk.HeadObjectCommand({ Bucket: this.settings.bucket, Key: keyPath(checkKey(key)) }));
      return true;
    } catch (err) {
      if (notFound(err)) return false;
      throw err;
    }
  }

  /** Closes the client's sockets (on shutdown). */
  async close(): Promise<void> {
    if (this.client) (await this.client).s3.destroy();
  }

  private connect(): Promise<{ sdk: Sdk; s3: S3Client }> {
    this.client ??= import('@aws-sdk/client-s3').then((sdk) => {
      const { endpoint, region, accessKeyId, secretAccessKey, forcePathStyle } = this.settings;
      const s3 = new sdk.S3Client({
        endpoint,
        region,
        forcePathStyle,
        credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
        // Only the checksums an operation requires: S3-compatible servers do not all take the SDK's default CRC32
        // trailers; puts send their SHA-256 themselves.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 3,
      });
      return { sdk, s3 };
    });
    return this.client;
  }
}

function notFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
