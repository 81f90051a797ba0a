import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyResolver } from '../../common/auth/api-key-resolver.js';
import { AdminController } from './admin.controller.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKey } from './entities/api-key.entity.js';
import { Tenant } from './entities/tenant.entity.js';
import { WhatsappLine } from './entities/whatsapp-line.entity.js';
import { LinesService } from './lines.service.js';
import { NumbersController } from './numbers.controller.js';
import { SettingsController } from './settings.controller.js';
import { TenantsService } from './tenants.service.js';

/** Global because every tenant-facing controller's guard resolves API keys through it. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([Tenant, ApiKey, WhatsappLine])],
  controllers: [AdminController, NumbersController, SettingsController],
  providers: [TenantsService, ApiKeysService, LinesService, { provide: ApiKeyResolver, useExisting: ApiKeysService }],
  exports: [TenantsService, ApiKeysService, LinesService, ApiKeyResolver],
})
export class TenantsModule {}
