import { useState } from 'preact/hooks';
import { blobUrl } from '../api';
import { ErrorBox, toApiError } from '../ui';
import type { ApiError } from '../api';

/** Opens a file the API serves (read with the key in a header) in a new tab. */
export function FileButton({ path, label }: { path: string; label: string }) {
  const [error, setError] = useState<ApiError | null>(null);
  return (
    <>
      <button
        type="button"
        class="link"
        onClick={async () => {
          try {
            window.open(await blobUrl(path), '_blank', 'noopener');
          } catch (e) {
            setError(toApiError(e));
          }
        }}
      >
        {label}
      </button>
      <ErrorBox error={error} />
    </>
  );
}
