import { Injectable } from '@nestjs/common';
import { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import { LinesService } from '../tenants/lines.service.js';

const TTL_MS = 10_000;

/**
 * Lines by their webhook routing keys, cached briefly: the ingress hot path must not query for the line (and its
 * app secret) on every call. A changed secret takes effect within TTL_MS.
 */
@Injectable()
export class WebhookLinesService {
  private readonly cache = new Map<string, { lines: WhatsappLine[]; at: number }>();

  constructor(private readonly lines: LinesService) {}

  async byPhoneNumberId(id: string): Promise<WhatsappLine | null> {
    return (await this.cached(`pnid:${id}`, async () => {
      const line = await this.lines.findByPhoneNumberId(id);
      return line ? [line] : [];
    }))[0] ?? null;
  }

  byWabaId(id: string): Promise<WhatsappLine[]> {
    return this.cached(`waba:${id}`, () => this.lines.findByWabaId(id));
  }

  async byId(id: string): Promise<WhatsappLine | null> {
    return (await this.cached(`id:${id}`, async () => {
      const line = await this.lines.findById(id);
      return line ? [line] : [];
    }))[0] ?? null;
  }

  private async cached(key: string, load: () => Promise<WhatsappLine[]>): Promise<WhatsappLine[]> {
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.lines;
    const lines = await load();
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { lines, at: Date.now() });
    return lines;
  }
}
