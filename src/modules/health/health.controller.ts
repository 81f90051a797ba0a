import { Controller, Get, Header, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Lifecycle } from '../../common/lifecycle/shutdown.js';

/** How long readiness waits for the database before calling it unreachable. */
const READY_PING_TIMEOUT_MS = 1000;

@ApiTags('Health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly ds: DataSource,
    private readonly lifecycle: Lifecycle,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({ summary: 'Liveness and database reachability' })
  @ApiOkResponse({ description: '`{"status":"ok","details":{"database":{"status":"up"}}}`' })
  @ApiServiceUnavailableResponse({ description: 'The database is unreachable' })
  check() {
    return this.health.check([() => this.db.pingCheck('database', { timeout: 2000 })]);
  }

  @Get('ready')
  @Header('Cache-Control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({
    summary: 'Readiness: whether a load balancer should send requests here',
    description:
      '503 while the service starts (migrations run), while the database is unreachable and from the moment the instance begins to stop (it then drains the requests in flight, within `SHUTDOWN_GRACE_SECONDS`).',
  })
  @ApiOkResponse({ description: '`{"status":"ready","database":"up"}`' })
  @ApiServiceUnavailableResponse({ description: '`{"status":"stopping"}`, `{"status":"starting"}` or `{"status":"unavailable","database":"down"}`' })
  async ready(@Res({ passthrough: true }) res: Response): Promise<{ status: string; database?: string }> {
    if (this.lifecycle.stopping) {
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'stopping' };
    }
    const up = await this.ping();
    if (!up) res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return up ? { status: 'ready', database: 'up' } : { status: 'unavailable', database: 'down' };
  }

  private async ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), READY_PING_TIMEOUT_MS)));
    try {
      return await Promise.race([this.ds.query('SELECT 1').then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
