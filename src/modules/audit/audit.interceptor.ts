import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { concatMap, type Observable } from 'rxjs';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { auditChanges } from './audit-redaction.js';
import { AuditLogService } from './audit-log.service.js';
import type { AuditedOptions, AuditResourceType } from './audit-types.js';

export interface AuditedMeta extends AuditedOptions {
  resourceType: AuditResourceType;
  action: string;
}

export const AUDITED = 'testigo:audited';

type AuditedRequest = Request & { id?: string; tenant?: TenantContext };

const param = (req: AuditedRequest, name: string): string | null => {
  const v = req.params?.[name];
  return typeof v === 'string' ? v : null;
};

/** The resource's id from the answer (`id`, `outbound_id`, `inbound_id`…) or the route. */
function resourceIdOf(meta: AuditedMeta, req: AuditedRequest, result: unknown): string | null {
  if (meta.idParam) return param(req, meta.idParam);
  if (result && typeof result === 'object') {
    const r = result as Record<string, unknown>;
    if (typeof r.id === 'string') return r.id;
    const key = Object.keys(r).find((k) => k.endsWith('_id') && k.slice(0, -3) === meta.resourceType);
    if (key && typeof r[key] === 'string') return r[key] as string;
  }
  const names = Object.keys(req.params ?? {}).filter((k) => k !== meta.tenantParam);
  return param(req, names.includes('id') ? 'id' : (names[0] ?? ''));
}

/**
 * Writes the audit row of a `@Audited` route after its handler succeeded and before the answer leaves: a 2xx for a
 * change always has its row (if the write fails, the answer is a 500 and the failure is logged with the request id).
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditLogService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const meta = this.reflector.get<AuditedMeta | undefined>(AUDITED, context.getHandler());
    if (!meta) return next.handle();
    const req = context.switchToHttp().getRequest<AuditedRequest>();
    return next.handle().pipe(
      concatMap(async (result: unknown) => {
        const resourceId = resourceIdOf(meta, req, result);
        const tenantId = req.tenant?.tenantId ?? (meta.tenantParam ? param(req, meta.tenantParam) : meta.resourceType === 'tenant' ? resourceId : null) ?? null;
        await this.audit.record({
          tenantId,
          actor: req.tenant?.apiKeyId ?? 'admin',
          resourceType: meta.resourceType,
          resourceId: resourceId ?? (meta.resourceType === 'settings' ? tenantId : null),
          action: meta.action,
          changes: auditChanges(req.body),
          requestId: req.id ?? '',
          clientIp: req.ip ?? null,
          method: req.method,
          path: req.originalUrl.split('?')[0],
        });
        return result;
      }),
    );
  }
}
