/** What the audit log records changes of, and how a route names its resource. */
export const AUDIT_RESOURCE_TYPES = ['whatsapp_line', 'flow', 'inbound', 'outbound', 'hook', 'settings', 'api_key', 'tenant', 'document', 'process'] as const;
export type AuditResourceType = (typeof AUDIT_RESOURCE_TYPES)[number];

export interface AuditedOptions {
  /** Route parameter naming the resource. Unset: the answer's `id` (or `<x>_id`), else the route's `id` parameter. */
  idParam?: string;
  /** Admin routes: route parameter naming the tenant concerned (a tenant's own id is its resource id). */
  tenantParam?: string;
}
