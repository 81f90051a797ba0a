import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { AUDITED, AuditInterceptor, type AuditedMeta } from './audit.interceptor.js';
import type { AuditedOptions, AuditResourceType } from './audit-types.js';

export { AUDIT_RESOURCE_TYPES, type AuditedOptions, type AuditResourceType } from './audit-types.js';

/**
 * Records the route's change in the audit log once the handler has succeeded: who (API key or admin), what
 * (resource, action, the body with secrets redacted), when (the Clock), request id and client address. A handler
 * that throws records nothing.
 */
export const Audited = (resourceType: AuditResourceType, action: string, options: AuditedOptions = {}) =>
  applyDecorators(SetMetadata(AUDITED, { resourceType, action, ...options } satisfies AuditedMeta), UseInterceptors(AuditInterceptor));
