import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { DatabasePoolMetrics } from './database-pool.metrics.js';

@Module({ imports: [TerminusModule], controllers: [HealthController, MetricsController], providers: [DatabasePoolMetrics] })
export class HealthModule {}
