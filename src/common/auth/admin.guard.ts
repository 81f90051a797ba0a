import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { AppConfig } from '../../config/app-config.js';
import { AppError } from '../errors/app-error.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Admin endpoints: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(config: AppConfig) {
    this.expected = config.ADMIN_TOKEN ? sha256(config.ADMIN_TOKEN) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    const auth = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
    if (!token || !this.expected || !timingSafeEqual(sha256(token), this.expected)) {
      throw AppError.unauthenticated('A valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)');
    }
    return true;
  }
}

export const AdminAuth = () => applyDecorators(UseGuards(AdminGuard), ApiBearerAuth('admin'));

/** `GET /metrics`: `Authorization: Bearer <ADMIN_TOKEN>`, or `<METRICS_TOKEN>` when set (a token a scraper may hold). */
@Injectable()
export class MetricsGuard implements CanActivate {
  private readonly expected: Buffer[];

  constructor(config: AppConfig) {
    this.expected = [config.ADMIN_TOKEN, config.METRICS_TOKEN].filter((t): t is string => !!t).map(sha256);
  }

  canActivate(context: ExecutionContext): boolean {
    const auth = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
    const given = token ? sha256(token) : null;
    // Every expected token is compared, so the time taken does not say which one matched.
    const ok = this.expected.map((e) => given !== null && timingSafeEqual(given, e)).some(Boolean);
    if (!ok) throw AppError.unauthenticated('A valid metrics or admin token is required (Authorization: Bearer <METRICS_TOKEN or ADMIN_TOKEN>)');
    return true;
  }
}

export const MetricsAuth = () => applyDecorators(UseGuards(MetricsGuard), ApiBearerAuth('admin'));
