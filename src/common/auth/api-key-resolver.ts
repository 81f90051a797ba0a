/** The tenant behind a request. */
export interface TenantContext {
  tenantId: string;
  apiKeyId: string;
}

/** Implemented by the tenants module; lets the guard here resolve keys without depending on it. */
export abstract class ApiKeyResolver {
  abstract resolve(plainKey: string): Promise<TenantContext | null>;
}
