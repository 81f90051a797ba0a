/**
 * What a key may do: `read` (GET), `write` (POST, PUT, PATCH, DELETE), `admin-of-tenant` (the tenant's own
 * administration: its audit log).
 */
export const API_KEY_SCOPES = ['read', 'write', 'admin-of-tenant'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** The tenant behind a request. */
export interface TenantContext {
  tenantId: string;
  apiKeyId: string;
  scopes: readonly ApiKeyScope[];
}

/** A known, unrevoked key; `expiresAt` is for the guard to check (it answers expired keys with their own message). */
export interface ResolvedKey extends TenantContext {
  expiresAt: Date | null;
  /** The tenant's own API-key rate limit; what it leaves unset is RATE_LIMIT_PER_SECOND / RATE_LIMIT_BURST. */
  rateLimit: { perSecond?: number; burst?: number } | null;
}

/** Implemented by the tenants module; lets the guard here resolve keys without depending on it. */
export abstract class ApiKeyResolver {
  abstract resolve(plainKey: string): Promise<ResolvedKey | null>;
  /** Notes that the key was used now from `ip` (batched: not a write per request). */
  abstract touch(apiKeyId: string, ip: string | undefined): void;
}
