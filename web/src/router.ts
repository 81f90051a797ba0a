import { useEffect, useState } from 'preact/hooks';

/** Hash routes (`#/processes/PRC…`): the service serves one page, and nothing of the route reaches its logs. */
export function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const href = (...parts: string[]) => '#/' + parts.map(encodeURIComponent).join('/');

export function go(...parts: string[]): void {
  location.hash = href(...parts);
}
