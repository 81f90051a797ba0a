import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Flow } from './entities/flow.entity.js';
import { FlowVersion } from './entities/flow-version.entity.js';
import { FlowsController } from './flows.controller.js';
import { FlowsService } from './flows.service.js';

/** Flow definitions, versioned. The engine reads them through FlowsService (getVersion, assertStartable). */
@Module({
  imports: [TypeOrmModule.forFeature([Flow, FlowVersion])],
  controllers: [FlowsController],
  providers: [FlowsService],
  exports: [FlowsService],
})
export class FlowsModule {}
