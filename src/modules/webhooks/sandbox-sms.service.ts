import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { SmsService } from '../../sms/sms.service.js';
import type { SandboxSmsRecorder } from '../../sms/sms-provider.port.js';
import type { SmsMessage } from '../../sms/sms.types.js';
import { SandboxSms } from './entities/sandbox-sms.entity.js';

/** The sandbox SMS provider's inbox: every SMS it "sent", per tenant and number. */
@Injectable()
export class SandboxSmsService implements SandboxSmsRecorder, OnModuleInit {
  constructor(
    @InjectRepository(SandboxSms) private readonly sms: Repository<SandboxSms>,
    private readonly smsService: SmsService,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.smsService.useSandboxRecorder(this);
  }

  async record(message: SmsMessage, providerMessageId: string): Promise<void> {
    await this.sms.insert({ id: newId('SMS'), tenantId: message.tenantId, phone: message.to, body: message.body, providerMessageId, createdAt: this.clock.now() });
  }

  list(tenantId: string, phone: string, page: PageQueryDto) {
    return paginate(this.sms.createQueryBuilder('s').where('s.tenant_id = :tenantId AND s.phone = :phone', { tenantId, phone }), page);
  }
}
