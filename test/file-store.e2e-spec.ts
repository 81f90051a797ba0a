import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { FileNotInStoreError, type FileStore } from '../src/storage/file-store.port.js';
import { LocalDiskFileStore } from '../src/storage/local-disk.adapter.js';
import { S3FileStore } from '../src/storage/s3.adapter.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Every adapter keeps the port's promises: content-addressed, idempotent, whole files or none, unknown keys refused. */
function contract(name: string, setup: () => Promise<{ store: FileStore; close(): Promise<void> }>) {
  describe(`FileStore contract: ${name}`, () => {
    let store: FileStore;
    let close: () => Promise<void>;
    beforeAll(async () => ({ store, close } = await setup()));
    afterAll(() => close());

    it('stores bytes under their SHA-256 and reads them back as a buffer and as a stream', async () => {
      const bytes = Buffer.from(`identity card ${name} ${Math.random()}`);
      const stored = await store.put(bytes);
      expect(stored).toEqual({ key: sha256(bytes), sha256: sha256(bytes), sizeBytes: bytes.length });
      expect(await store.has(stored.key)).toBe(true);
      expect((await store.read(stored.key)).equals(bytes)).toBe(true);
      const opened = await store.open(stored.key);
      expect(opened.sizeBytes).toBe(bytes.length);
      expect((await drain(opened.stream)).equals(bytes)).toBe(true);
    });

    it('is idempotent: the same bytes twice give the same key and one copy', async () => {
      const bytes = Buffer.alloc(300_000, 7);
      const [a, b] = await Promise.all([store.put(bytes), store.put(bytes)]);
      expect(a).toEqual(b);
      expect(await store.put(bytes)).toEqual(a);
      expect(sha256(await store.read(a.key))).toBe(a.sha256);
    });

    it('refuses unknown keys and keys that are not digests', async () => {
      const unknown = sha256(Buffer.from('never stored'));
      expect(await store.has(unknown)).toBe(false);
      await expect(store.read(unknown)).rejects.toBeInstanceOf(FileNotInStoreError);
      await expect(store.open(unknown)).rejects.toBeInstanceOf(FileNotInStoreError);
      await expect(store.read('../../etc/passwd')).rejects.toBeInstanceOf(FileNotInStoreError);
    });
  });
}

let localRoot = '';
contract('local disk', async () => {
  localRoot = mkdtempSync(path.join(tmpdir(), 'testigo-store-'));
  return { store: new LocalDiskFileStore(localRoot), close: async () => rmSync(localRoot, { recursive: true, force: true }) };
});

describe('local disk layout', () => {
  it('keeps a file at ab/cd/<sha256> and leaves no temporary file behind', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'testigo-store-'));
    try {
      const bytes = Buffer.from('a contract');
      const { key } = await new LocalDiskFileStore(root).put(bytes);
      expect(readdirSync(path.join(root, key.slice(0, 2), key.slice(2, 4)))).toEqual([key]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/** s3rver: an S3-compatible server from npm, on loopback, spoken to with the real AWS SDK (path style, SigV4). */
contract('S3-compatible (s3rver)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'testigo-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'testigo-files', configs: [] }] });
  const { port } = (await server.run()) as { port: number };
  const store = new S3FileStore({
    endpoint: `http://127.0.0.1:${port}`,
    bucket: 'testigo-files',
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
  });
  return {
    store,
    close: async () => {
      await store.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('S3 object layout', () => {
  it('puts objects at ab/cd/<sha256> in the bucket (path style)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'testigo-s3-'));
    const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'files', configs: [] }] });
    const { port } = (await server.run()) as { port: number };
    const store = new S3FileStore({
      endpoint: `http://127.0.0.1:${port}`,
      bucket: 'files',
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
    });
    try {
      const { key } = await store.put(Buffer.from('signed pdf'));
      const listing = await fetch(`http://127.0.0.1:${port}/files?list-type=2`).then((r) => r.text());
      expect(listing).toContain(`<Key>${key.slice(0, 2)}/${key.slice(2, 4)}/${key}</Key>`);
    } finally {
      await store.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
