import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { Clock } from '../../common/clock/clock.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto, PageQueryDto } from '../../common/http/pagination.js';
import { CreateHookDto, DeliveryDto, HookDto, HookPayloadDto, HookWithSecretDto, ListDeliveriesQueryDto, UpdateHookDto } from './dto/hook.dto.js';
import { HooksService } from './hooks.service.js';
import { Audited } from '../audit/audited.decorator.js';

@ApiTags('Hooks')
@ApiExtraModels(HookPayloadDto)
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/hooks')
export class HooksController {
  constructor(
    private readonly hooks: HooksService,
    private readonly clock: Clock,
  ) {}

  @Post()
  @Audited('hook', 'create')
  @ApiOperation({
    summary: 'Subscribe an endpoint to events',
    description:
      'Deliveries are POSTs of `{id, type, created_at, data}` signed with the Standard Webhooks scheme (`webhook-id`, ' +
      '`webhook-timestamp`, `webhook-signature`); verify them with the returned secret and any `standardwebhooks` library. ' +
      'The body is the `HookPayloadDto` schema. A 2xx answer within 10 s is success; otherwise the delivery is retried ' +
      'after about 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, then every 10 h, for 3 days.',
  })
  @ApiCreatedResponse({ type: HookWithSecretDto })
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async create(@Tenant() t: TenantContext, @Body() dto: CreateHookDto): Promise<HookWithSecretDto> {
    const { hook, secret } = await this.hooks.create(t.tenantId, dto);
    return { ...HookDto.from(hook, this.clock.now()), secret };
  }

  @Get()
  @ApiOperation({ summary: 'List your hooks, newest first' })
  @ApiPageResponse(HookDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async list(@Tenant() t: TenantContext, @Query() page: PageQueryDto): Promise<PageDto<HookDto>> {
    const { items, next_cursor } = await this.hooks.list(t.tenantId, page);
    const now = this.clock.now();
    return { data: items.map((h) => HookDto.from(h, now)), next_cursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a hook (never its secret)' })
  @ApiOkResponse({ type: HookDto })
  @ApiErrors([404, 'NOT_FOUND'])
  async get(@Tenant() t: TenantContext, @Param('id') id: string): Promise<HookDto> {
    return HookDto.from(await this.hooks.get(t.tenantId, id), this.clock.now());
  }

  @Patch(':id')
  @Audited('hook', 'update')
  @ApiOperation({ summary: 'Change a hook; `active=true` also re-enables a hook the service disabled' })
  @ApiOkResponse({ type: HookDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'])
  async update(@Tenant() t: TenantContext, @Param('id') id: string, @Body() dto: UpdateHookDto): Promise<HookDto> {
    return HookDto.from(await this.hooks.update(t.tenantId, id, dto), this.clock.now());
  }

  @Delete(':id')
  @Audited('hook', 'delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a hook and its pending deliveries' })
  @ApiNoContentResponse()
  @ApiErrors([404, 'NOT_FOUND'])
  async remove(@Tenant() t: TenantContext, @Param('id') id: string): Promise<void> {
    await this.hooks.remove(t.tenantId, id);
  }

  @Post(':id/rotate-secret')
  @Audited('hook', 'rotate_secret')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the signing secret',
    description: 'Returns the new secret (shown only now). For 24 hours deliveries carry signatures by both the new and the previous secret.',
  })
  @ApiOkResponse({ type: HookWithSecretDto })
  @ApiErrors([404, 'NOT_FOUND'])
  async rotate(@Tenant() t: TenantContext, @Param('id') id: string): Promise<HookWithSecretDto> {
    const { hook, secret } = await this.hooks.rotateSecret(t.tenantId, id);
    return { ...HookDto.from(hook, this.clock.now()), secret };
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a `ping` event to this hook only' })
  @ApiAcceptedResponse({ type: DeliveryDto })
  @ApiErrors([404, 'NOT_FOUND'], [409, 'HOOK_INACTIVE'])
  async test(@Tenant() t: TenantContext, @Param('id') id: string): Promise<DeliveryDto> {
    return this.hooks.test(t.tenantId, id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: "A hook's deliveries, newest first, each with every attempt" })
  @ApiPageResponse(DeliveryDto)
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'])
  async deliveries(@Tenant() t: TenantContext, @Param('id') id: string, @Query() query: ListDeliveriesQueryDto): Promise<PageDto<DeliveryDto>> {
    const { items, next_cursor } = await this.hooks.listDeliveries(t.tenantId, id, query);
    return { data: items, next_cursor };
  }

  @Post('deliveries/:id/redeliver')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a finished (failed or succeeded) delivery again, now, with the same `webhook-id`' })
  @ApiAcceptedResponse({ type: DeliveryDto })
  @ApiErrors([404, 'NOT_FOUND'], [409, 'DELIVERY_IN_PROGRESS', 'HOOK_INACTIVE'])
  async redeliver(@Tenant() t: TenantContext, @Param('id') id: string): Promise<DeliveryDto> {
    return this.hooks.redeliver(t.tenantId, id);
  }
}
