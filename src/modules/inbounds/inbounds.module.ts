import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FlowsModule } from '../flows/flows.module.js';
import { Inbound } from './inbound.entity.js';
import { InboundsController } from './inbounds.controller.js';
import { InboundsService } from './inbounds.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Inbound]), FlowsModule],
  controllers: [InboundsController],
  providers: [InboundsService],
  exports: [InboundsService],
})
export class InboundsModule {}
