import { Body, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantAuth } from '../../common/auth/api-key.guard.js';
import { Clock, MovableClock } from '../../common/clock/clock.js';
import { AppError, ErrorCode } from '../../common/errors/app-error.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { AdvanceClockDto, SandboxClockDto } from './dto/sandbox-clock.dto.js';

@ApiTags('Sandbox')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/sandbox/clock')
export class SandboxClockController {
  constructor(private readonly clock: Clock) {}

  @Get()
  @ApiOperation({ summary: "The service's time, and whether it can be moved (SANDBOX_CLOCK=true, for trying flows)" })
  @ApiOkResponse({ type: SandboxClockDto })
  read(): SandboxClockDto {
    return { now: this.clock.now().toISOString(), movable: this.clock instanceof MovableClock };
  }

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Move the clock forward, for the whole service (follow-ups, expiries and other deadlines come due)',
    description: 'Only where the service runs with SANDBOX_CLOCK=true, which it refuses in production: elsewhere 404. The clock never moves back.',
  })
  @ApiOkResponse({ type: SandboxClockDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'])
  advance(@Body() dto: AdvanceClockDto): SandboxClockDto {
    if (!(this.clock instanceof MovableClock))
      throw new AppError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'The clock cannot be moved: the service runs with SANDBOX_CLOCK=false');
    this.clock.advance(dto.minutes * 60_000);
    return this.read();
  }
}
