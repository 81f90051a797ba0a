import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

export class AdvanceClockDto {
  @ApiProperty({ example: 120, minimum: 1, maximum: 10080, description: 'Minutes to move the clock forward (at most a week)' })
  @Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(10080)
  minutes: number;
}

export class SandboxClockDto {
  @ApiProperty({ example: '2026-03-02T17:00:00.000Z', description: "The service's time now" })
  now: string;

  @ApiProperty({ description: 'Whether the clock can be moved (the service runs with SANDBOX_CLOCK=true)' })
  movable: boolean;
}
