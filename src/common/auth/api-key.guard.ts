import { CanActivate, createParamDecorator, ExecutionContext, Injectable, UseGuards, applyDecorators } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
import type { Request } from 'express';
import { AppError } from '../errors/app-error.js';
import { ApiKeyResolver, TenantContext } from './api-key-resolver.js';

export const API_KEY_HEADERS = ['truora-api-key', 'x-api-key'] as const;

type TenantRequest = Request & { tenant?: TenantContext };

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly resolver: ApiKeyResolver) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<TenantRequest>();
    const header = API_KEY_HEADERS.map((h) => req.headers[h]).find((v) => typeof v === 'string' && v.length > 0);
    if (typeof header !== 'string' || header.length > 200) throw AppError.unauthenticated();
    const tenant = await this.resolver.resolve(header.trim());
    if (!tenant) throw AppError.unauthenticated('The API key is unknown or revoked');
    req.tenant = tenant;
    return true;
  }
}

/** Guards a controller or route with the tenant API key and documents it in Swagger. */
export const TenantAuth = () => applyDecorators(UseGuards(ApiKeyGuard), ApiSecurity('api-key'));

/** The authenticated tenant's context. */
export const Tenant = createParamDecorator((_data: unknown, ctx: ExecutionContext): TenantContext => {
  const tenant = ctx.switchToHttp().getRequest<TenantRequest>().tenant;
  if (!tenant) throw AppError.unauthenticated();
  return tenant;
});
