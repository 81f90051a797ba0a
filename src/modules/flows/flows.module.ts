import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Flow } from './entities/flow.entity.js';
import { FlowVersion } from './entities/flow-version.entity.js';
import { FlowsController } from './flows.controller.js';
import { FlowsService } from './flows.service.js';
import { StepTypes } from './steps/step-types.service.js';

/**
 * Flow definitions, versioned, and the step-type registry (StepTypes: every provider marked @RegisterStepType, from
 * any module). The engine reads flows through FlowsService (getVersion, assertStartable).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Flow, FlowVersion]), DiscoveryModule],
  controllers: [FlowsController],
  providers: [FlowsService, StepTypes],
  exports: [FlowsService, StepTypes],
})
export class FlowsModule {}
