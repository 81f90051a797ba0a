import { Injectable } from '@nestjs/common';
import { BspAdapter } from './bsp/bsp.adapter.js';
import { CloudApiAdapter } from './cloud-api/cloud-api.adapter.js';
import { SandboxAdapter } from './sandbox/sandbox.adapter.js';
import type { WhatsappProvider } from './whatsapp-provider.port.js';
import type { LineCredentials } from './whatsapp.types.js';

/** The adapter of each line's provider: chosen per line, not globally. */
@Injectable()
export class WhatsappProviders {
  private readonly byName: Record<LineCredentials['provider'], WhatsappProvider>;

  constructor(cloud: CloudApiAdapter, bsp: BspAdapter, sandbox: SandboxAdapter) {
    this.byName = { cloud_api: cloud, bsp, sandbox };
  }

  for(line: Pick<LineCredentials, 'provider'>): WhatsappProvider {
    return this.byName[line.provider];
  }
}
