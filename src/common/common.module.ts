import { Global, Module } from '@nestjs/common';
import { AdminGuard } from './auth/admin.guard.js';
import { Clock, SystemClock } from './clock/clock.js';
import { Metrics } from './metrics/metrics.js';
import { Workers } from './workers/workers.js';
import { CacheNotifications } from '../database/cache-notifications.js';

@Global()
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }, AdminGuard, CacheNotifications, Metrics, Workers],
  exports: [Clock, AdminGuard, Metrics, Workers],
})
export class CommonModule {}
