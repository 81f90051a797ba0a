/** The console's credentials: an API key, or the admin token (tenants view). Kept in sessionStorage, never in a URL. */
export interface Credentials {
  kind: 'key' | 'admin';
  secret: string;
}

const STORE = 'testigo.console.credentials';

export function credentials(): Credentials | null {
  const raw = sessionStorage.getItem(STORE);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Credentials;
  } catch {
    return null;
  }
}

export function signIn(c: Credentials): void {
  sessionStorage.setItem(STORE, JSON.stringify(c));
}

export function signOut(): void {
  sessionStorage.removeItem(STORE);
}

export function authHeaders(c: Credentials | null = credentials()): Record<string, string> {
  if (!c) return {};
  return c.kind === 'key' ? { 'Truora-API-Key': c.secret } : { authorization: `Bearer ${c.secret}` };
}
