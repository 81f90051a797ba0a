import { Global, Module } from '@nestjs/common';
import { BspAdapter } from './bsp/bsp.adapter.js';
import { CloudApiAdapter } from './cloud-api/cloud-api.adapter.js';
import { SandboxAdapter } from './sandbox/sandbox.adapter.js';
import { WhatsappProviders } from './whatsapp-providers.js';

/** Provider port and adapters. No database access here. */
@Global()
@Module({
  providers: [CloudApiAdapter, BspAdapter, SandboxAdapter, WhatsappProviders],
  exports: [WhatsappProviders],
})
export class WhatsappModule {}
