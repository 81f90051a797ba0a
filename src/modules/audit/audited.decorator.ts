import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { AUDITED, AuditInterceptor, type AuditedMeta } from './audit.interceptor.js';

export const AUDIT_RESOURCE_TYPES = ['whatsapp_line', 'flow', 'inbound', 'outbound', 'hook', 'settings', 'api_key', 'tenant'] as const;
export type AuditResourceType = (typeof AUDIT_RESOURCE_TYPES)[number];

export interface AuditedOptions {
  /** Route parameter naming the resource. Unset: the answer's `id` (or `<x>_id`), else the route's `id` parameter. */
  idParam?: string;
  /** Admin routes: route parameter naming the tenant concerned (a tenant's own id is its resource id). */
  tenantParam?: string;
}

/**
 * Records the route's change in the audit log once the handler has succeeded: who (API key or admin), what
 * (resource, action, the body with secrets redacted), when (the Clock), request id and client address. A handler
 * that throws records nothing.
 */
export const Audited = (resourceType: AuditResourceType, action: string, options: AuditedOptions = {}) =>
  applyDecorators(SetMetadata(AUDITED, { resourceType, action, ...options } satisfies AuditedMeta), UseInterceptors(AuditInterceptor));
