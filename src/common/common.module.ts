import { Global, Module } from '@nestjs/common';
import { AdminGuard } from './auth/admin.guard.js';
import { Clock, SystemClock } from './clock/clock.js';

@Global()
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }, AdminGuard],
  exports: [Clock, AdminGuard],
})
export class CommonModule {}
