import { Readable } from 'node:stream';

export interface ServedFile {
  sha256: string;
  contentType: string;
  filename: string | null;
  open(): Promise<{ stream: Readable; sizeBytes: number }>;
}

/**
 * A stored file's download: ETag its SHA-256 in quotes (If-None-Match answers 304), long private caching (the bytes of
 * an id never change), `nosniff`, and the filename in Content-Disposition.
 */
export async function fileResponse(file: ServedFile, ifNoneMatch: string | undefined): Promise<Response> {
  const etag = `"${file.sha256}"`;
  // Content-addressed: the ETag never changes for an id, so a private cache may keep it.
  const common = { etag, 'cache-control': 'private, max-age=31536000, immutable' };
  if (matches(ifNoneMatch, etag)) return new Response(null, { status: 304, headers: common });
  const { stream, sizeBytes } = await file.open();
  const headers: Record<string, string> = {
    ...common,
    'content-type': file.contentType,
    'content-length': String(sizeBytes),
    'x-content-type-options': 'nosniff',
    'content-disposition': disposition(file.filename),
  };
  return new Response(Readable.toWeb(stream) as unknown as ConstructorParameters<typeof Response>[0], { status: 200, headers });
}

/** If-None-Match: `*`, or a list of (possibly weak) tags; compared weakly, as RFC 9110 says for it. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/** `attachment` with the filename, ASCII-safe in `filename` and exact in `filename*` (RFC 6266). */
function disposition(filename: string | null): string {
  if (!filename) return 'attachment';
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
