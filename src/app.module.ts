import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { CommonModule } from './common/common.module.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { logError, redactUrl } from './common/logging/log-redaction.js';
import { AppConfig } from './config/app-config.js';
import { installSecretBox, SecretBox } from './common/secrets/secret-box.js';
import { ConfigModule } from './config/config.module.js';
import { dataSourceOptions } from './database/data-source.js';
import { DocumentsModule } from './modules/documents/documents.module.js';
import { ConsoleModule } from './modules/console/console.module.js';
import { ConversationsModule } from './modules/conversations/conversations.module.js';
import { EvidenceModule } from './modules/evidence/evidence.module.js';
import { FlowsModule } from './modules/flows/flows.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { MessagesModule } from './modules/messages/messages.module.js';
import { HooksModule } from './modules/hooks/hooks.module.js';
import { InboundsModule } from './modules/inbounds/inbounds.module.js';
import { OutboundsModule } from './modules/outbounds/outbounds.module.js';
import { ReengagementModule } from './modules/reengagement/reengagement.module.js';
import { SignatureModule } from './modules/signature/signature.module.js';
import { TemplatesModule } from './modules/templates/templates.module.js';
import { TenantsModule } from './modules/tenants/tenants.module.js';
import { WebhooksModule } from './modules/webhooks/webhooks.module.js';
import { SigningModule } from './signing/signing.module.js';
import { StorageModule } from './storage/storage.module.js';
import { WhatsappModule } from './whatsapp/whatsapp.module.js';
import { SmsModule } from './sms/sms.module.js';

@Module({})
export class AppModule {
  /** The whole application against the database at `databaseUrl` (started by main.ts or the tests). */
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    // Entities' sealed columns read the process's SecretBox. (Absent only where no provider runs: the OpenAPI export.)
    if (config.SECRETS_KEY) installSecretBox(new SecretBox(config.SECRETS_KEY));
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.LOG_LEVEL,
            // Set by the requestId middleware, which runs before anything else.
            genReqId: (req) => (req as { id?: string }).id ?? '',
            // Headers stay out of the logs: they carry API keys and tokens. So do query values (verify tokens, phone
            // numbers) and SQL parameters: see log-redaction.ts.
            serializers: {
              req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
              err: logError,
            },
            // The senders of a webhook call for an unknown line are users' phone numbers.
            redact: { paths: ['keys.senders'], censor: '[REDACTED]' },
            autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/health/ready' },
          },
          // BSP webhook calls are a hot path too: no per-request child logger or access line there. Their failures still
          // reach the logs through the exception filter (5xx) and the services' own warnings. (Cloud API calls are
          // answered ahead of express: see webhook-fast-path.ts.)
          exclude: [{ method: RequestMethod.POST, path: 'v1/whatsapp/webhook/bsp/:numberId' }],
        }),
        // 20 connections for one process; several processes of one instance share 80, plus one each listening for
        // cache notifications (PostgreSQL allows 100 by default).
        TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl, Math.max(4, Math.min(20, Math.floor(80 / config.PROCESSES)))), autoLoadEntities: true }),
        ScheduleModule.forRoot(),
        CommonModule,
        HealthModule,
        StorageModule,
        WhatsappModule,
        SmsModule,
        SigningModule,
        AuditModule,
        EvidenceModule,
        TenantsModule,
        MessagesModule,
        WebhooksModule,
        FlowsModule,
        HooksModule,
        TemplatesModule,
        OutboundsModule,
        ReengagementModule,
        InboundsModule,
        DocumentsModule,
        ConversationsModule,
        SignatureModule,
        ConsoleModule,
      ],
    };
  }
}
