import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Template } from './entities/template.entity.js';
import { TemplatesService } from './templates.service.js';

/** WhatsApp templates and their approval lifecycle with each line's provider. No HTTP API of its own: outbounds is it. */
@Module({
  imports: [TypeOrmModule.forFeature([Template])],
  providers: [TemplatesService],
  exports: [TemplatesService],
})
export class TemplatesModule {}
