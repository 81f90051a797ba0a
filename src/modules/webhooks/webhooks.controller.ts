import { Controller, Get, Header, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { IpRateLimit } from '../../common/rate-limit/rate-limiter.js';
import type { RawBodyRequest } from '../../common/http/body-parsers.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('Webhook ingress (Meta / BSP)')
@Controller('v1/whatsapp/webhook')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @Header('Content-Type', 'text/plain')
  @ApiOperation({ summary: "Meta's verification handshake: echoes hub.challenge when hub.verify_token is a line's verify token" })
  @ApiQuery({ name: 'hub.mode', example: 'subscribe' })
  @ApiQuery({ name: 'hub.verify_token' })
  @ApiQuery({ name: 'hub.challenge', example: '1158201444' })
  @ApiOkResponse({ description: 'The challenge, as text/plain' })
  @ApiErrors([403, 'FORBIDDEN'])
  @IpRateLimit()
  async handshake(@Query() query: Record<string, unknown>): Promise<string> {
    return this.webhooks.handshake(query['hub.mode'], query['hub.verify_token'], query['hub.challenge']);
  }

  /**
   * Documents the route. Requests are answered by `installWebhookFastPath` (ahead of express and Nest, app.setup.ts), which
   * calls the same service; this handler only runs if that mount is removed.
   */
  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cloud API webhook calls. Verified (X-Hub-Signature-256 with the line app secret), stored, then answered 200; processed afterwards',
  })
  @ApiOkResponse({ description: '`{"received": true}` once the call is stored' })
  @ApiErrors([400, 'MALFORMED_BODY'], [401, 'INVALID_SIGNATURE'], [413, 'PAYLOAD_TOO_LARGE'], [415, 'UNSUPPORTED_MEDIA_TYPE'])
  async receive(@Req() req: RawBodyRequest): Promise<{ received: true }> {
    await this.webhooks.receiveCloud(req.rawBody, req.body, req.headers['x-hub-signature-256'] as string | undefined);
    return { received: true };
  }

  @Post('bsp/:numberId')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "A BSP line's webhook calls (Cloud API envelope). With an app_secret on the line: X-Hub-Signature-256 is checked. " +
      "Without: the line's webhook token must be in ?token= (shown once, when the line is created or the token rotated)",
  })
  @ApiQuery({ name: 'token', required: false, description: "The line's webhook token (lines without app_secret)" })
  @ApiOkResponse({ description: '`{"received": true}` once the call is stored' })
  @ApiErrors([400, 'MALFORMED_BODY'], [401, 'INVALID_SIGNATURE'], [404, 'NOT_FOUND'])
  async receiveBsp(@Param('numberId') numberId: string, @Query('token') token: unknown, @Req() req: RawBodyRequest): Promise<{ received: true }> {
    await this.webhooks.receiveBsp(numberId, req.rawBody, req.body, req.headers['x-hub-signature-256'] as string | undefined, token);
    return { received: true };
  }
}
