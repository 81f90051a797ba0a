import { Global, Module } from '@nestjs/common';
import { AdminGuard } from './auth/admin.guard.js';
import { Clock, SystemClock } from './clock/clock.js';
import { CacheNotifications } from '../database/cache-notifications.js';

@Global()
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }, AdminGuard, CacheNotifications],
  exports: [Clock, AdminGuard],
})
export class CommonModule {}
