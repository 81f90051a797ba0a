import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, HttpStatus, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiSecurity } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AppConfig } from '../../config/app-config.js';
import { ipLimit, RateLimiter } from '../rate-limit/rate-limiter.js';
import { Clock } from '../clock/clock.js';
import { AppError, ErrorCode } from '../errors/app-error.js';
import { ApiErrors } from '../http/api-errors.decorator.js';
import { ApiKeyResolver, type ApiKeyScope, TenantContext } from './api-key-resolver.js';

export const API_KEY_HEADERS = ['truora-api-key', 'x-api-key'] as const;

type TenantRequest = Request & { tenant?: TenantContext };

const SCOPE = 'testigo:required-scope';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A route that needs a scope beyond what its method needs (read for GET, write for POST/PUT/PATCH/DELETE). */
export const RequiresScope = (scope: ApiKeyScope) => SetMetadata(SCOPE, scope);

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly resolver: ApiKeyResolver,
    private readonly clock: Clock,
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<TenantRequest>();
    const header = API_KEY_HEADERS.map((h) => req.headers[h]).find((v) => typeof v === 'string' && v.length > 0);
    if (typeof header !== 'string' || header.length > 200) throw AppError.unauthenticated();
    // Looked up by its SHA-256 (an index on the hash): the key itself is never compared.
    const key = await this.resolver.resolve(header.trim());
    const res = context.switchToHttp().getResponse<Response>();
    if (!key) {
      // Guessing keys is limited per client address, like the routes without a key.
      await this.limiter.enforce(res, `ip:${req.ip ?? 'unknown'}`, ipLimit(this.config));
      throw AppError.unauthenticated('The API key is unknown or revoked');
    }
    if (key.expiresAt && key.expiresAt <= this.clock.now()) {
      throw AppError.unauthenticated(`The API key expired at ${key.expiresAt.toISOString()}; create a new one`);
    }
    const needed: ApiKeyScope[] = [WRITE_METHODS.has(req.method) ? 'write' : 'read'];
    const extra = this.reflector.getAllAndOverride<ApiKeyScope | undefined>(SCOPE, [context.getHandler(), context.getClass()]);
    if (extra) needed.push(extra);
    const missing = needed.find((s) => !key.scopes.includes(s));
    if (missing) throw new AppError(HttpStatus.FORBIDDEN, ErrorCode.FORBIDDEN, `This API key lacks the ${missing} scope (it has: ${key.scopes.join(', ') || 'none'})`);
    await this.limiter.enforce(res, `key:${key.apiKeyId}`, {
      perSecond: key.rateLimit?.perSecond ?? this.config.RATE_LIMIT_PER_SECOND,
      burst: key.rateLimit?.burst ?? this.config.RATE_LIMIT_BURST,
    });
    this.resolver.touch(key.apiKeyId, req.ip);
    req.tenant = { tenantId: key.tenantId, apiKeyId: key.apiKeyId, scopes: key.scopes };
    return true;
  }
}

/** Guards a controller or route with the tenant API key and documents it in Swagger. */
export const TenantAuth = () => applyDecorators(UseGuards(ApiKeyGuard), ApiSecurity('api-key'), ApiErrors([403, 'FORBIDDEN'], [429, 'RATE_LIMITED']));

/** The authenticated tenant's context. */
export const Tenant = createParamDecorator((_data: unknown, ctx: ExecutionContext): TenantContext => {
  const tenant = ctx.switchToHttp().getRequest<TenantRequest>().tenant;
  if (!tenant) throw AppError.unauthenticated();
  return tenant;
});
