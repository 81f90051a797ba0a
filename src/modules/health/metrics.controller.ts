import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { MetricsAuth } from '../../common/auth/admin.guard.js';
import { Metrics } from '../../common/metrics/metrics.js';

@ApiTags('Health')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @MetricsAuth()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Operations metrics (Prometheus text format)',
    description:
      'HTTP durations, webhook inbox, send queue, provider errors, hooks, processes, follow-ups, event-loop lag and the database pool (see docs/operations.md). Bearer ADMIN_TOKEN, or METRICS_TOKEN when set.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus exposition format', schema: { type: 'string' } })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
