import { Global, Module } from '@nestjs/common';
import { AdminGuard, MetricsGuard } from './auth/admin.guard.js';
import { AppConfig } from '../config/app-config.js';
import { Clock, MovableClock, SystemClock } from './clock/clock.js';
import { Metrics } from './metrics/metrics.js';
import { Workers } from './workers/workers.js';
import { Jobs } from './jobs/jobs.service.js';
import { Lifecycle } from './lifecycle/shutdown.js';
import { OutgoingHttp } from './http/outgoing-http.js';
import { DnsHostResolver, HostResolver } from './http/url-guard.js';
import { CacheNotifications } from './cache/cache-notifications.js';
import { IpRateLimitGuard, RateLimiter, VerifyRateLimitGuard } from './rate-limit/rate-limiter.js';

@Global()
@Module({
  providers: [
    { provide: Clock, useFactory: (config: AppConfig) => (config.SANDBOX_CLOCK ? new MovableClock() : new SystemClock()), inject: [AppConfig] },
    // Resolves the hosts of tenant-given URLs (hooks, BSP base URLs, media); tests replace it to map names.
    { provide: HostResolver, useClass: DnsHostResolver },
    OutgoingHttp,
    AdminGuard,
    MetricsGuard,
    CacheNotifications,
    Metrics,
    Workers,
    RateLimiter,
    IpRateLimitGuard,
    VerifyRateLimitGuard,
    Jobs,
    Lifecycle,
  ],
  exports: [Clock, HostResolver, OutgoingHttp, AdminGuard, MetricsGuard, Metrics, Workers, RateLimiter, IpRateLimitGuard, VerifyRateLimitGuard, Jobs, Lifecycle],
})
export class CommonModule {}
