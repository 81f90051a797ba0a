import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppConfig } from './config/app-config.js';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter.js';
import { createValidationPipe } from './common/errors/validation.js';
import { bodyGuard } from './common/http/body-guard.js';
import { bodyParserErrors, bodyParsers } from './common/http/body-parsers.js';
import { requestId } from './common/http/request-id.js';
import { installRequestMetrics } from './common/http/request-metrics.js';
import { Metrics } from './common/metrics/metrics.js';
import { CONSOLE_PATH } from './modules/console/console-assets.js';
import { DOCUMENT_UPLOAD_ROUTE } from './modules/documents/documents.controller.js';
import { VERIFY_UPLOAD_ROUTE } from './modules/signature/verification.controller.js';
import { FLOW_STEP_SCHEMA } from './modules/flows/dto/flow.dto.js';
import { LIMITS, STEP_ID } from './modules/flows/flow-definition.js';
import type { StepTypeMeta } from './modules/flows/steps/step-type.js';
import { stepTypeMetas } from './modules/flows/steps/step-types.service.js';
import { installWebhookFastPath, WEBHOOK_FAST_PATH } from './modules/webhooks/webhook-fast-path.js';
import { WebhooksService } from './modules/webhooks/webhooks.service.js';

/** HTTP concerns shared by main.ts, the tests and the OpenAPI export. The app must be created with bodyParser: false. */
export function configureApp(app: INestApplication, config: AppConfig): void {
  const errors = new AllExceptionsFilter();
  const express = app.getHttpAdapter().getInstance() as { disable(setting: string): void; set(setting: string, value: unknown): void };
  express.disable('x-powered-by');
  if (config.TRUST_PROXY) express.set('trust proxy', /^\d+$/.test(config.TRUST_PROXY) ? Number(config.TRUST_PROXY) : config.TRUST_PROXY);
  app.useLogger(app.get(Logger));
  // Meta's webhook calls are the hot path (thousands a second): served ahead of express and Nest, by the same
  // service the documented controller uses.
  installWebhookFastPath(app.getHttpServer(), app.get(WebhooksService), config.BODY_LIMIT_BYTES, errors);
  installRequestMetrics(app.getHttpServer(), app.get(Metrics), [WEBHOOK_FAST_PATH]);
  app.use(requestId);
  // HSTS only where the service is reached over https (PUBLIC_URL): over plain http browsers ignore it, and on a
  // local http default it would pin localhost to https. The CSP lets Swagger UI's inline set-up run and nothing from
  // elsewhere (its scripts and styles are served here, under /docs); the console's (/console) allows no inline script
  // or style at all.
  const https = config.PUBLIC_URL?.startsWith('https://') ?? false;
  const headers = (scripts: string[], images: string[]) =>
    helmet({
      strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          'default-src': ["'self'"],
          'script-src': scripts,
          'style-src': scripts,
          'img-src': images,
          'font-src': ["'self'", 'data:'],
          'connect-src': ["'self'"],
          'object-src': ["'none'"],
          'base-uri': ["'self'"],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
        },
      },
    });
  const api = headers(["'self'", "'unsafe-inline'"], ["'self'", 'data:']);
  // blob: for the images and files the console reads with its API key (never in a URL) and shows.
  const console = headers(["'self'"], ["'self'", 'data:', 'blob:']);
  app.use((req: { path: string }, res: unknown, next: () => void) =>
    (req.path === CONSOLE_PATH || req.path.startsWith(`${CONSOLE_PATH}/`) ? console : api)(req as never, res as never, next),
  );
  // The guard (depth, prototype keys, lone surrogates) runs before validation copies a body onto DTO instances. The
  // webhooks, and the sandbox's simulated messages that play them, keep a lone surrogate (U+FFFD when processed).
  app.use(
    ...bodyParsers(config.BODY_LIMIT_BYTES, [DOCUMENT_UPLOAD_ROUTE, VERIFY_UPLOAD_ROUTE]),
    bodyParserErrors(errors),
    bodyGuard(errors, [WEBHOOK_FAST_PATH, '/v1/sandbox/messages']),
  );
  app.useGlobalPipes(createValidationPipe((type) => app.get(type, { strict: false })));
  app.useGlobalFilters(errors);
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), { jsonDocumentUrl: 'docs-json' });
}

export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const doc = new DocumentBuilder()
    .setTitle('Testigo API')
    .setDescription(
      'Trusted processes over WhatsApp: verification flows, templates and sends, re-engagement and signed result ' +
        'webhooks. Authenticate with your API key in the `Truora-API-Key` header (or `X-API-Key`); admin endpoints ' +
        'take `Authorization: Bearer <ADMIN_TOKEN>`. Every POST/PATCH accepts JSON or `application/x-www-form-urlencoded`. ' +
        'Errors are `{statusCode, code, message, details?, requestId}`.',
    )
    .setVersion('1.0')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'Truora-API-Key' }, 'api-key')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, 'admin')
    .build();
  const document = SwaggerModule.createDocument(app, doc);
  addStepSchemas(document, stepTypeMetas(app.get(ModulesContainer)));
  return document;
}

/**
 * `FlowStep`: one schema per registered step type (`Step.<type>`, from its @RegisterStepType metadata), joined as a
 * oneOf with `type` as the discriminator.
 */
function addStepSchemas(document: OpenAPIObject, metas: StepTypeMeta[]): void {
  const schemas = ((document.components ??= {}).schemas ??= {});
  const mapping: Record<string, string> = {};
  for (const meta of metas) {
    const name = `Step.${meta.type}`;
    mapping[meta.type] = `#/components/schemas/${name}`;
    schemas[name] = {
      type: 'object',
      description: meta.summary,
      required: ['id', 'type', ...(meta.schema.required ?? [])],
      properties: {
        id: { type: 'string', maxLength: LIMITS.stepId, pattern: STEP_ID.source, description: 'Unique within the flow' },
        type: { type: 'string', enum: [meta.type] },
        ...meta.schema.properties,
      },
      additionalProperties: false,
    };
  }
  schemas[FLOW_STEP_SCHEMA] = { oneOf: Object.values(mapping).map(($ref) => ({ $ref })), discriminator: { propertyName: 'type', mapping } };
}
