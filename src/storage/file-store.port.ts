import type { Readable } from 'node:stream';

/** A file kept in a FileStore: its key names it in the store, and is its content's SHA-256 (hex). */
export interface StoredFile {
  key: string;
  sha256: string;
  sizeBytes: number;
}

/**
 * Where file bytes live (inbound media, contract documents, signed PDFs). Content-addressed: the key is the bytes'
 * SHA-256, so storing the same bytes twice keeps one copy and a key always names the same bytes. No database access.
 */
export interface FileStore {
  /** Stores the bytes (a no-op when the store already has them) and returns their key. */
  put(bytes: Buffer): Promise<StoredFile>;
  /** The file's bytes as a stream; throws FileNotInStoreError when the key is unknown. */
  open(key: string): Promise<{ stream: Readable; sizeBytes: number }>;
  /** The whole file; throws FileNotInStoreError when the key is unknown. */
  read(key: string): Promise<Buffer>;
  /** Whether the store holds the key. */
  has(key: string): Promise<boolean>;
  /** Removes the file (a no-op when it is not there). Content-addressed: the caller makes sure nothing else names it. */
  delete(key: string): Promise<void>;
}

export const FILE_STORE = Symbol('FileStore');

export class FileNotInStoreError extends Error {
  constructor(readonly key: string) {
    super(`no file ${key} in the store`);
    this.name = 'FileNotInStoreError';
  }
}

const KEY = /^[0-9a-f]{64}$/;

/** Keys are SHA-256 hex digests; anything else (a path, `..`) is refused before it reaches a disk or bucket. */
export function checkKey(key: string): string {
  if (!KEY.test(key)) throw new FileNotInStoreError(key);
  return key;
}

/** `ab/cd/<sha256>`: two levels of 256 folders keep any one folder small. */
export function keyPath(key: string): string {
  return `${key.slice(0, 2)}/${key.slice(2, 4)}/${key}`;
}
