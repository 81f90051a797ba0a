import { HookDeliveryMetrics } from './hook-delivery.metrics.js';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HookDeliveryAttempt } from './entities/hook-delivery-attempt.entity.js';
import { HookDelivery } from './entities/hook-delivery.entity.js';
import { HookEvent } from './entities/hook-event.entity.js';
import { Hook } from './entities/hook.entity.js';
import { HookDispatcher } from './hook-dispatcher.js';
import { HooksController } from './hooks.controller.js';
import { HooksService } from './hooks.service.js';

/** Client webhooks: subscriptions, the transactional outbox (`HooksService.emit`) and signed delivery with retries. */
@Module({
  imports: [TypeOrmModule.forFeature([Hook, HookEvent, HookDelivery, HookDeliveryAttempt])],
  controllers: [HooksController],
  providers: [HooksService, HookDispatcher, HookDeliveryMetrics],
  exports: [HooksService],
})
export class HooksModule {}
