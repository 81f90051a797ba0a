import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminAuditLogController, AuditLogController } from './audit-log.controller.js';
import { AuditLogEntry } from './audit-log.entity.js';
import { AuditLogService } from './audit-log.service.js';
import { AuditInterceptor } from './audit.interceptor.js';

/**
 * The configuration audit trail. Global and below every other module: any module's controller marks its mutating
 * routes `@Audited(...)`, whose interceptor writes here.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditLogEntry])],
  controllers: [AuditLogController, AdminAuditLogController],
  providers: [AuditLogService, AuditInterceptor],
  exports: [AuditLogService, AuditInterceptor],
})
export class AuditModule {}
