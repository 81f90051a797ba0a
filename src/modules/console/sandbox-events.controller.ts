import { Controller, MessageEvent, Query, Sse } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { interval, map, merge, Observable, takeUntil } from 'rxjs';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { Lifecycle } from '../../common/lifecycle/shutdown.js';
import { toE164 } from '../../common/phone/phone.js';
import { SandboxService } from '../webhooks/sandbox.service.js';
import { SandboxEventsQueryDto } from './dto/sandbox-events.dto.js';
import { SandboxEventsService } from './sandbox-events.service.js';

/** A comment-free keep-alive, so that proxies do not close a quiet stream. */
const PING_MS = 20_000;

@ApiTags('Sandbox')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/sandbox/events')
export class SandboxEventsController {
  constructor(
    private readonly sandbox: SandboxService,
    private readonly events: SandboxEventsService,
    private readonly lifecycle: Lifecycle,
  ) {}

  @Sse()
  @ApiOperation({
    summary: 'Live changes of a sandbox conversation, as Server-Sent Events',
    description:
      'A `text/event-stream` that announces, as they are committed, each message recorded or updated between the sandbox line and the user ' +
      '(`event: message`, data `{"id"}`: read it with `GET /v1/sandbox/messages`) and each SMS the sandbox SMS provider sent to the user ' +
      '(`event: sms`, data `{"id"}`: `GET /v1/sandbox/sms`). `event: resync` means announcements may have been missed (the stream has just ' +
      'started, or its database connection came back): read the conversation again. `event: ping` every 20 s keeps the stream open. ' +
      'The stream ends when the service stops; reconnect then.',
  })
  @ApiProduces('text/event-stream')
  @ApiResponse({ status: 200, description: 'The event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async stream(@Tenant() t: TenantContext, @Query() q: SandboxEventsQueryDto): Promise<Observable<MessageEvent>> {
    const line = await this.sandbox.sandboxLine(t.tenantId, q.waba_phone_number);
    const stopping = new Observable<void>((s) => this.lifecycle.onStop(() => s.next()));
    const changes = this.events
      .changes(t.tenantId, line.id, toE164(q.phone)!)
      .pipe(map((e): MessageEvent => (e === 'resync' ? { type: 'resync', data: {} } : { type: e.kind, data: { id: e.id } })));
    const pings = interval(PING_MS).pipe(map((): MessageEvent => ({ type: 'ping', data: {} })));
    return merge(changes, pings).pipe(takeUntil(stopping));
  }
}
