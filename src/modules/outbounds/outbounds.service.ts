import { HttpStatus, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { Clock } from '../../common/clock/clock.js';
import { AppError, ErrorCode } from '../../common/errors/app-error.js';
import { paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { toMobileE164 } from '../../common/phone/phone.js';
import type { InboundMessageEvent, OutgoingMessage } from '../../whatsapp/whatsapp.types.js';
import { DocumentsService } from '../documents/documents.service.js';
import type { FlowDefinition } from '../flows/flow-definition.js';
import { FlowsService } from '../flows/flows.service.js';
import { MessagesService } from '../messages/messages.service.js';
import { SendQueueService } from '../messages/send-queue.service.js';
import type { Template } from '../templates/entities/template.entity.js';
import { HooksService } from '../hooks/hooks.service.js';
import { TemplatesService } from '../templates/templates.service.js';
import type { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import { LinesService } from '../tenants/lines.service.js';
import { ConsentsService } from './consents.service.js';
import type { CreateOutboundDto, ListOutboundsQueryDto, OutboundDto } from './dto/outbound.dto.js';
import type { SendOutboundDto, SendOutboundResponseDto } from './dto/send.dto.js';
import { CONSENT_SOURCES } from './entities/consent.entity.js';
import { OutboundSend } from './entities/outbound-send.entity.js';
import { Outbound, type OutboundOption, type OptionAction } from './entities/outbound.entity.js';
import { IdempotencyConflict, IdempotencyService, requestHash } from './idempotency.service.js';
import { coordinatesOf, createOutboundProblems, paramProblem, parseContent, providerCategory, splitParams } from './outbound-content.js';
import { documentRequired, FieldErrors, notApproved, optedOut, optInRequired, unknownDocument } from './outbounds.errors.js';

/** Quick-reply payload of an invitation button: `<action>:<outbound_id>:<send_id>`. */
const PAYLOAD = /^(continue_process|cancel_process):(OUT[0-9A-Z]{26}):(OSN[0-9A-Z]{26})$/;

export interface Invitation {
  sendId: string;
  outboundId: string;
  tenantId: string;
  lineId: string;
  /** E.164. */
  phone: string;
  flowId: string;
  messageId: string;
  action: OptionAction;
  /** The user's first answer, if they already tapped. */
  response: OptionAction | null;
  respondedAt: Date | null;
}

@Injectable()
export class OutboundsService implements OnModuleInit {
  private readonly logger = new Logger(OutboundsService.name);

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly lines: LinesService,
    private readonly templates: TemplatesService,
    private readonly messages: MessagesService,
    private readonly sendQueue: SendQueueService,
    private readonly flows: FlowsService,
    private readonly consents: ConsentsService,
    private readonly idempotency: IdempotencyService,
    private readonly hooks: HooksService,
    private readonly documents: DocumentsService,
  ) {}

  onModuleInit(): void {
    // Every approval, rejection, pause… reaches the client as an `outbound.status` hook, committed with the change.
    this.templates.onTransition(async (m, change) => {
      const outbound = await m.findOneBy(Outbound, { templateId: change.template.id });
      if (!outbound) return;
      const line = await this.lines.get(outbound.tenantId, outbound.lineId).catch(() => null);
      await this.hooks.emit(m, { tenantId: outbound.tenantId, type: 'outbound.status', data: this.view(outbound, change.template, line) });
    });
  }

  // ---- create / read -------------------------------------------------------------------------------

  async create(t: TenantContext, dto: CreateOutboundDto): Promise<OutboundDto> {
    const errors = new FieldErrors();
    const line = await this.lines.getByPhone(t.tenantId, dto.waba_phone_number, 'waba_phone_number').catch((err: unknown) => {
      if (err instanceof AppError && err.status === HttpStatus.BAD_REQUEST) errors.add('waba_phone_number', err.message);
      else throw err;
      return null;
    });
    for (const problem of createOutboundProblems(dto)) problem.messages.forEach((message) => errors.add(problem.field, message));
    const parsed = parseContent(dto.content);
    const mediaUrl = dto.media_url ? dto.media_url : null;
    const examples = splitParams(dto.example_params);
    errors.throwIfAny();
    // Checked above: an invitation's options are well formed.
    const options: OutboundOption[] | null =
      !dto.is_notification && Array.isArray(dto.options) ? (dto.options as OutboundOption[]).map((o) => ({ message: o.message.trim(), action: o.action })) : null;

    const header =
      dto.template_type === 'TEXT' ? undefined : dto.template_type === 'LOCATION' ? ({ format: 'LOCATION' } as const) : { format: dto.template_type, exampleUrl: mediaUrl! };
    const { outbound, template } = await this.ds.transaction(async (m) => {
      const template = await this.templates.create(m, {
        tenantId: t.tenantId,
        lineId: line!.id,
        language: dto.language_code,
        category: providerCategory(dto.category),
        body: parsed.body,
        bodyExamples: examples,
        header,
        quickReplies: options?.map((o) => o.message),
      });
      const outbound = m.create(Outbound, {
        id: newId('OUT'),
        tenantId: t.tenantId,
        lineId: line!.id,
        templateId: template.id,
        isNotification: dto.is_notification,
        content: parsed.body,
        paramCount: parsed.paramCount,
        category: dto.category,
        templateType: dto.template_type,
        languageCode: dto.language_code,
        mediaUrl,
        options,
        exampleParams: examples,
        apiKeyId: t.apiKeyId,
        createdAt: this.clock.now(),
      });
      await m.insert(Outbound, outbound);
      return { outbound, template };
    });
    // After the commit: the outbound exists whatever the provider says; a failed submission is retried by its job.
    const submitted = (await this.templates.submit(template.id)) ?? template;
    return this.view(outbound, submitted, line!);
  }

  async get(tenantId: string, id: string): Promise<OutboundDto> {
    const outbound = await this.ds.manager.findOneBy(Outbound, { id, tenantId });
    if (!outbound) throw AppError.notFound('Outbound', id);
    const [template, line] = await Promise.all([this.templates.get(outbound.templateId), this.lines.get(tenantId, outbound.lineId).catch(() => null)]);
    return this.view(outbound, template!, line);
  }

  async list(tenantId: string, q: ListOutboundsQueryDto): Promise<{ data: OutboundDto[]; next_cursor: string | null }> {
    const qb = this.ds.manager.createQueryBuilder(Outbound, 'o').where('o.tenant_id = :tenantId', { tenantId });
    if (q.line) {
      const lineId = /^WAN[0-9A-Z]{26}$/.test(q.line) ? q.line : (await this.lines.getByPhone(tenantId, q.line, 'line')).id;
      qb.andWhere('o.line_id = :lineId', { lineId });
    }
    if (q.status) {
      const ids = await this.templates.idsWithStatus(tenantId, q.status);
      if (ids.length === 0) return { data: [], next_cursor: null };
      qb.andWhere('o.template_id IN (:...ids)', { ids });
    }
    const { items, next_cursor } = await paginate(qb, q);
    const templates = await this.templates.getMany(items.map((o) => o.templateId));
    const lineCache = new Map<string, WhatsappLine | null>();
    const data: OutboundDto[] = [];
    for (const o of items) {
      if (!lineCache.has(o.lineId)) lineCache.set(o.lineId, await this.lines.get(tenantId, o.lineId).catch(() => null));
      data.push(
        this.view(
          o,
          templates.find((x) => x.id === o.templateId)!,
          lineCache.get(o.lineId)!,
        ),
      );
    }
    return { data, next_cursor };
  }

  private view(o: Outbound, t: Template, line: WhatsappLine | null): OutboundDto {
    return {
      outbound_id: o.id,
      status: t.status,
      rejection_reason: t.status === 'REJECTED' ? t.rejectionReason : null,
      waba_phone_number: line?.phoneNumber ?? '',
      line_id: o.lineId,
      is_notification: o.isNotification,
      content: o.content,
      param_count: o.paramCount,
      category: o.category,
      template_type: o.templateType,
      language_code: o.languageCode,
      media_url: o.mediaUrl,
      options: o.options,
      example_params: o.exampleParams,
      template_name: t.name,
      submitted_category: t.category,
      submission_error: t.submitError,
      created_at: o.createdAt.toISOString(),
      updated_at: t.updatedAt.toISOString(),
    };
  }

  // ---- send ----------------------------------------------------------------------------------------

  async send(t: TenantContext, dto: SendOutboundDto, idempotencyKey?: string): Promise<SendOutboundResponseDto> {
    if (idempotencyKey !== undefined && !IdempotencyService.validKey(idempotencyKey)) {
      throw AppError.validation('Idempotency-Key', 'The Idempotency-Key header must be 1 to 255 characters');
    }
    const hash = requestHash('outbounds.send', dto);
    if (idempotencyKey) {
      const replay = await this.idempotency.replay<SendOutboundResponseDto>(t.tenantId, idempotencyKey, hash);
      if (replay) return replay;
    }
    try {
      return await this.ds.transaction(async (m) => {
        const response = await this.sendIn(m, t, dto);
        if (idempotencyKey) await this.idempotency.claim(m, t.tenantId, idempotencyKey, 'outbounds.send', hash, 201, response);
        return response;
      });
    } catch (err) {
      if (err instanceof IdempotencyConflict) {
        const replay = await this.idempotency.replay<SendOutboundResponseDto>(t.tenantId, idempotencyKey!, hash);
        if (replay) return replay;
      }
      throw err;
    }
  }

  private async sendIn(m: EntityManager, t: TenantContext, dto: SendOutboundDto): Promise<SendOutboundResponseDto> {
    const errors = new FieldErrors();
    const phone = toMobileE164(dto.phone_number, dto.country_code);
    if (!phone) {
      errors.add('phone_number', 'phone_number and country_code must form a valid mobile number (phone_number without the country code)');
      errors.add('country_code', 'country_code must be a calling code (57, +57) or an ISO country (CO) that, with phone_number, forms a valid mobile number');
    }
    const outbound = await m.findOneBy(Outbound, { id: dto.outbound_id, tenantId: t.tenantId });
    if (!outbound) {
      errors.throwIfAny();
      throw AppError.notFound('Outbound', dto.outbound_id);
    }
    const params = splitParams(dto.outbound_params);
    if (params.length !== outbound.paramCount) {
      errors.add('outbound_params', `outbound_params must have ${outbound.paramCount} comma-separated value(s), one per parameter, got ${params.length}`);
    } else {
      const problem = params.map(paramProblem).find(Boolean);
      if (problem) errors.add('outbound_params', `outbound_params ${problem}`);
    }
    if (outbound.isNotification && dto.flow_id) errors.add('flow_id', 'flow_id only applies to outbounds created with is_notification=false');
    if (!outbound.isNotification && !dto.flow_id) errors.add('flow_id', 'flow_id is required: this outbound invites the user into a flow');
    if (dto.document_id && !dto.flow_id) errors.add('document_id', 'document_id only applies to a flow invitation (with flow_id)');
    if (dto.signer_name && !dto.document_id) errors.add('signer_name', 'signer_name only applies with document_id');
    errors.throwIfAny();
    if (dto.flow_id) {
      const flow = await this.flows.assertStartable(t.tenantId, dto.flow_id).catch((err: unknown) => {
        if (err instanceof AppError && err.code === ErrorCode.NOT_FOUND) throw AppError.validation('flow_id', `flow_id ${dto.flow_id} is not one of your flows`);
        throw err;
      });
      await this.checkDocument(t.tenantId, flow.definition, dto.document_id);
    }
    if (dto.user_authorized !== true) throw optInRequired();
    const template = (await this.templates.get(outbound.templateId, m))!;
    if (template.status !== 'APPROVED') throw notApproved(outbound.id, template.status);
    const state = await this.consents.state(t.tenantId, phone!, m);
    if (state.optedOut) throw optedOut(phone!, state.optedOutAt!);

    const now = this.clock.now();
    await this.consents.record(m, {
      tenantId: t.tenantId,
      phone: phone!,
      kind: 'opt_in',
      source: CONSENT_SOURCES.API_SEND,
      occurredAt: now,
      apiKeyId: t.apiKeyId,
      lineId: outbound.lineId,
      liftsOptOut: false,
    });
    const sendId = newId('OSN');
    const message = await this.messages.enqueue(m, {
      tenantId: t.tenantId,
      lineId: outbound.lineId,
      phone: phone!,
      message: this.templateMessage(outbound, template, params, sendId),
    });
    await m.insert(OutboundSend, {
      id: sendId,
      tenantId: t.tenantId,
      outboundId: outbound.id,
      lineId: outbound.lineId,
      phone: phone!,
      messageId: message.id,
      flowId: dto.flow_id ?? null,
      params,
      apiKeyId: t.apiKeyId,
      response: null,
      respondedAt: null,
      documentId: dto.document_id ?? null,
      signerName: dto.signer_name ?? null,
      createdAt: now,
    });
    return {
      message_id: message.id,
      status: 'queued',
      outbound_id: outbound.id,
      send_id: sendId,
      phone_number: phone!,
      flow_id: dto.flow_id ?? null,
      document_id: dto.document_id ?? null,
      created_at: now.toISOString(),
    };
  }

  /**
   * The invitation's document must be one of the tenant's; a flow whose `document` step has no fixed document needs
   * one.
   */
  private async checkDocument(tenantId: string, flow: FlowDefinition, documentId: string | undefined): Promise<void> {
    if (documentId) {
      if (!(await this.documents.find(tenantId, documentId))) throw unknownDocument(documentId);
      return;
    }
    const open = flow.steps.find((s) => s.type === 'document' && !(s as { document_id?: string }).document_id);
    if (open) throw documentRequired(open.id);
  }

  /** The contract an invitation carries, for the process it started (null: none, or not an invitation). */
  async contractOf(sendId: string, manager: EntityManager = this.ds.manager): Promise<{ documentId: string; signerName: string | null } | null> {
    const send = await manager.findOneBy(OutboundSend, { id: sendId });
    return send?.documentId ? { documentId: send.documentId, signerName: send.signerName } : null;
  }

  private templateMessage(o: Outbound, t: Template, params: string[], sendId: string): OutgoingMessage {
    const header: Extract<OutgoingMessage, { kind: 'template' }>['header'] =
      o.templateType === 'TEXT' || !o.mediaUrl
        ? undefined
        : o.templateType === 'LOCATION'
          ? { type: 'location', ...coordinatesOf(o.mediaUrl)! }
          : { type: o.templateType.toLowerCase() as 'image' | 'video' | 'document', link: o.mediaUrl };
    return {
      kind: 'template',
      name: t.name,
      language: t.language,
      ...(params.length ? { bodyParams: params } : {}),
      ...(header ? { header } : {}),
      ...(o.options?.length ? { buttonPayloads: o.options.map((opt) => `${opt.action}:${o.id}:${sendId}`) } : {}),
    };
  }

  // ---- what users do -------------------------------------------------------------------------------

  /**
   * A tap on an invitation's button from the invited user on its line: the first tap is recorded as the answer.
   * Null when the message is no such tap.
   */
  async answerInvitation(manager: EntityManager, line: WhatsappLine, ev: InboundMessageEvent, phone: string): Promise<{ invitation: Invitation; first: boolean } | null> {
    if (!ev.replyId || !PAYLOAD.test(ev.replyId)) return null;
    const invitation = await this.findInvitationByPayload(ev.replyId, { lineId: line.id, phone }, manager);
    if (!invitation) return null;
    const first = invitation.response === null;
    if (first) {
      await manager.update(OutboundSend, { id: invitation.sendId }, { response: invitation.action, respondedAt: ev.timestamp });
      Object.assign(invitation, { response: invitation.action, respondedAt: ev.timestamp });
    }
    return { invitation, first };
  }

  /**
   * The invitation a quick-reply payload points at (`continue_process:<outbound_id>:<send_id>`), or null. With
   * `from`, the tap must come from the invited user on the invitation's line. For the conversation engine: on
   * `continue_process` it starts `flowId` for `phone` on `lineId`.
   */
  async findInvitationByPayload(payload: string, from?: { lineId: string; phone: string }, manager: EntityManager = this.ds.manager): Promise<Invitation | null> {
    const match = PAYLOAD.exec(payload);
    if (!match) return null;
    const [, action, outboundId, sendId] = match;
    const send = await manager.findOneBy(OutboundSend, { id: sendId, outboundId });
    if (!send || !send.flowId) return null;
    if (from && (send.lineId !== from.lineId || send.phone !== from.phone)) return null;
    return {
      sendId: send.id,
      outboundId: send.outboundId,
      tenantId: send.tenantId,
      lineId: send.lineId,
      phone: send.phone,
      flowId: send.flowId,
      messageId: send.messageId,
      action: action as OptionAction,
      response: send.response,
      respondedAt: send.respondedAt,
    };
  }
}
