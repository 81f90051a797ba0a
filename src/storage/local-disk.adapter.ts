import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { checkKey, FileNotInStoreError, keyPath, type FileStore, type StoredFile } from './file-store.port.js';

/**
 * Files on a local disk under `root`, at `ab/cd/<sha256>`. A file is written to a temporary name in its folder,
 * flushed to disk, then renamed into place (and the folder flushed), so a crash leaves either no file or the whole
 * file under its key, never a partial one that a later put would take for the real thing.
 */
export class LocalDiskFileStore implements FileStore {
  constructor(readonly root: string) {}

  async put(bytes: Buffer): Promise<StoredFile> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const stored = { key: sha256, sha256, sizeBytes: bytes.length };
    const target = this.pathOf(sha256);
    if (await this.has(sha256)) return stored;
    const dir = path.dirname(target);
    await mkdir(dir, { recursive: true });
    const temp = path.join(dir, `.${sha256}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(temp, 'wx', 0o640);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      // Same content under the same name: a concurrent put of these bytes renaming first is harmless.
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    await syncDir(dir);
    return stored;
  }

  async open(key: string): Promise<{ stream: Readable; sizeBytes: number }> {
    const file = this.pathOf(checkKey(key));
    const size = await sizeOf(file);
    if (size === null) throw new FileNotInStoreError(key);
    return { stream: createReadStream(file), sizeBytes: size };
  }

  async read(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(checkKey(key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotInStoreError(key);
      throw err;
    }
  }

  async has(key: string): Promise<boolean> {
    return (await sizeOf(this.pathOf(checkKey(key)))) !== null;
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(checkKey(key)), { force: true });
  }

  private pathOf(key: string): string {
    return path.join(this.root, keyPath(key));
  }
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Makes the rename itself durable (the folder's entry), where the platform allows opening a folder. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}
