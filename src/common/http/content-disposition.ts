/** `attachment` (or `inline`) with the filename, ASCII-safe in `filename` and exact in `filename*` (RFC 6266). */
export function contentDisposition(filename: string | null, type: 'attachment' | 'inline' = 'attachment'): string {
  if (!filename) return type;
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
