import { CanActivate, ExecutionContext, HttpStatus, Injectable, OnModuleDestroy, UseGuards, applyDecorators } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { Clock } from '../clock/clock.js';
import { AppError, ErrorCode } from '../errors/app-error.js';
import { ApiErrors } from '../http/api-errors.decorator.js';

export interface Limit {
  perSecond: number;
  burst: number;
}

export interface Verdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until one request is allowed again (0 when allowed). */
  retryAfterSeconds: number;
}

/** Buckets untouched this long are deleted (they would be full by then anyway). */
const IDLE_MS = 3_600_000;

/**
 * Token buckets in PostgreSQL (UNLOGGED `rate_buckets`), so every instance and process spends from the same bucket:
 * one UPSERT per limited request refills the bucket for the time since its last use and takes a token if there is
 * one. A denied request takes nothing, so a client over its limit still gets its rate.
 */
@Injectable()
export class RateLimiter implements OnModuleDestroy {
  private readonly purge: NodeJS.Timeout;

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
  ) {
    this.purge = setInterval(() => {
      this.ds.query(`DELETE FROM rate_buckets WHERE updated_at < $1`, [new Date(this.clock.now().getTime() - IDLE_MS)]).catch(() => undefined);
    }, 600_000).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purge);
  }

  async take(key: string, limit: Limit): Promise<Verdict> {
    const refill = `LEAST($2::float8, rate_buckets.tokens + GREATEST(0, EXTRACT(EPOCH FROM ($4::timestamptz - rate_buckets.updated_at))) * $3::float8)`;
    const [row]: Array<{ tokens: number; allowed: boolean }> = await this.ds.query(
      `INSERT INTO rate_buckets AS rate_buckets (key, tokens, allowed, updated_at) VALUES ($1, $2::float8 - 1, true, $4)
       ON CONFLICT (key) DO UPDATE SET
         tokens = CASE WHEN ${refill} >= 1 THEN ${refill} - 1 ELSE ${refill} END,
         allowed = ${refill} >= 1,
         updated_at = GREATEST(rate_buckets.updated_at, $4::timestamptz)
       RETURNING tokens, allowed`,
      [key, limit.burst, limit.perSecond, this.clock.now()],
    );
    const tokens = Number(row.tokens);
    return {
      allowed: row.allowed,
      limit: limit.burst,
      remaining: Math.max(0, Math.floor(tokens)),
      resetSeconds: Math.ceil((limit.burst - tokens) / limit.perSecond),
      retryAfterSeconds: row.allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / limit.perSecond)),
    };
  }

  /** Takes a token and sets the RateLimit-* headers; throws 429 RATE_LIMITED (with Retry-After) when there is none. */
  async enforce(res: Response, key: string, limit: Limit): Promise<void> {
    const v = await this.take(key, limit);
    res.setHeader('RateLimit-Limit', String(v.limit));
    res.setHeader('RateLimit-Remaining', String(v.remaining));
    res.setHeader('RateLimit-Reset', String(v.resetSeconds));
    if (!v.allowed) {
      res.setHeader('Retry-After', String(v.retryAfterSeconds));
      throw new AppError(
        HttpStatus.TOO_MANY_REQUESTS,
        ErrorCode.RATE_LIMITED,
        `Too many requests: at most ${limit.perSecond}/s (bursts of ${limit.burst}); retry after ${v.retryAfterSeconds} s`,
      );
    }
  }
}

/** Per client address, for routes without an API key (the webhook handshake). */
@Injectable()
export class IpRateLimitGuard implements CanActivate {
  constructor(
    protected readonly limiter: RateLimiter,
    protected readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    await this.limiter.enforce(http.getResponse<Response>(), `${this.bucket}:${http.getRequest<Request>().ip ?? 'unknown'}`, this.limit());
    return true;
  }

  protected readonly bucket: string = 'ip';

  protected limit(): Limit {
    return ipLimit(this.config);
  }
}

/** Per client address, its own bucket, for the public PDF verification (VERIFY_RATE_LIMIT_PER_MINUTE). */
@Injectable()
export class VerifyRateLimitGuard extends IpRateLimitGuard {
  protected override readonly bucket = 'verify';

  protected override limit(): Limit {
    return { perSecond: this.config.VERIFY_RATE_LIMIT_PER_MINUTE / 60, burst: this.config.VERIFY_RATE_LIMIT_PER_MINUTE };
  }
}

export const ipLimit = (config: AppConfig): Limit => ({ perSecond: config.RATE_LIMIT_IP_PER_SECOND, burst: config.RATE_LIMIT_IP_BURST });

export const IpRateLimit = () => applyDecorators(UseGuards(IpRateLimitGuard), ApiErrors([429, 'RATE_LIMITED']));

export const VerifyRateLimit = () => applyDecorators(UseGuards(VerifyRateLimitGuard), ApiErrors([429, 'RATE_LIMITED']));
