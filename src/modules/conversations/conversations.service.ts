import { HttpStatus, Injectable } from '@nestjs/common';
import { EntityManager, In, IsNull } from 'typeorm';
import { WriteBehind } from '../../database/write-behind.js';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { newId } from '../../common/ids/ids.js';
import { userPhone } from '../../common/phone/phone.js';
import { maskAuthCode } from '../../whatsapp/auth-code.js';
import type { InboundMessageEvent, OutgoingMessage } from '../../whatsapp/whatsapp.types.js';
import type { FlowDefinition } from '../flows/flow-definition.js';
import { FlowsService } from '../flows/flows.service.js';
import type { StepContext, StepDefinition, UserInput } from '../flows/steps/step-type.js';
import { StepTypes } from '../flows/steps/step-types.service.js';
import { HooksService } from '../hooks/hooks.service.js';
import { InboundsService } from '../inbounds/inbounds.service.js';
import type { Message } from '../messages/entities/message.entity.js';
import { MessagesService } from '../messages/messages.service.js';
import { followUpAnswerOf } from '../reengagement/follow-up-rules.js';
import { FollowUpsService } from '../reengagement/follow-ups.service.js';
import { DEFAULT_KEYWORDS } from '../tenants/default-keywords.js';
import type { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { EvidenceLog, GENESIS_HASH, type EvidenceInput } from '../evidence/evidence-log.js';
import { ProcessAnswer } from './entities/process-answer.entity.js';
import { Process, ProcessStatus } from './entities/process.entity.js';
import { ProcessResultsService } from './process-results.service.js';
import type { InboundContext } from './inbound-context.js';
import { ConversationErrorCode } from './conversations.errors.js';
import { text } from './steps/texts.js';

/** WhatsApp lets a business write freely for 24 hours after the user's last message. */
export const WINDOW_MS = 24 * 3600_000;

interface NewProcess {
  line: WhatsappLine;
  /** E.164. */
  phone: string;
  flowId: string;
  origin: Process['origin'];
  /** The inbound or outbound send that started it. */
  originId: string;
  now: Date;
  lastUserMessageAt: Date;
  /** How the person agreed to be in this conversation, recorded in `process.started` (`opt_in`). */
  optIn: Record<string, unknown>;
}

/** A user's state on a line, as `prepare` found it: their 24-hour window and their pending process (row locked). */
export interface UserState {
  lastUserMessageAt: Date;
  /** Kept current by the engine while the transaction applies the user's messages. */
  active: Process | null;
}

/** A user started an inbound flow by writing its message (it lifts an opt-out: see ConsentsService). */
export interface InboundStart {
  tenantId: string;
  lineId: string;
  /** E.164. */
  phone: string;
  at: Date;
  flowId: string;
}
export type InboundStartListener = (m: EntityManager, start: InboundStart) => Promise<void>;
/** Told, in the transaction that ends it, that a process ended (any end: a declined invitation too). */
export type ProcessFinishListener = (m: EntityManager, process: Pick<Process, 'id' | 'tenantId' | 'status'>) => Promise<void>;

/**
 * The conversation engine. Every inbound user message is applied here inside the webhook processor's transaction,
 * after taking the (line, user) row lock, so one user's messages apply one at a time. The state change, the answers,
 * the prompts (through the messages queue) and the result hooks (through the hooks outbox) commit together.
 */
@Injectable()
export class ConversationsService {
  private readonly flowCache = new Map<string, FlowDefinition>();
  private readonly inboundStartListeners: InboundStartListener[] = [];
  private readonly finishListeners: ProcessFinishListener[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly flows: FlowsService,
    private readonly inbounds: InboundsService,
    private readonly messages: MessagesService,
    private readonly hooks: HooksService,
    private readonly tenants: TenantsService,
    private readonly results: ProcessResultsService,
    private readonly followUps: FollowUpsService,
    private readonly steps: StepTypes,
    private readonly evidence: EvidenceLog,
  ) {}

  /**
   * Before the messages of a transaction are applied: moves each (line, user)'s 24-hour window to their latest
   * message, and takes the row lock of their pending process, which serialises one user's messages for the rest of
   * the transaction. Two statements for all the messages; the states are keyed by `userKey`.
   */
  async prepare(m: EntityManager, messages: Array<{ lineId: string; ev: InboundMessageEvent }>): Promise<Map<string, UserState>> {
    const states = new Map<string, UserState>();
    if (messages.length === 0) return states;
    const now = this.clock.now();
    const users = messages.map(({ lineId, ev }) => ({
      lineId,
      phone: userPhone(ev.from),
      // WhatsApp counts its 24-hour window from when the user wrote, not from when we processed it.
      at: ev.timestamp.getTime() > 0 ? new Date(Math.min(ev.timestamp.getTime(), now.getTime())) : now,
    }));
    // Sorted, as are the locks below, so that transactions taking several users' rows never wait on each other in a cycle.
    const windows: Array<{ line_id: string; phone: string; last_user_message_at: Date }> = await m.query(
      `INSERT INTO conversation_windows (line_id, phone, last_user_message_at)
       SELECT line_id, phone, max(at) FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS w(line_id, phone, at)
        GROUP BY line_id, phone ORDER BY line_id, phone
       ON CONFLICT (line_id, phone) DO UPDATE
         SET last_user_message_at = GREATEST(conversation_windows.last_user_message_at, EXCLUDED.last_user_message_at)
       RETURNING line_id, phone, last_user_message_at`,
      [users.map((u) => u.lineId), users.map((u) => u.phone), users.map((u) => u.at)],
    );
    for (const w of windows) states.set(userKey(w.line_id, w.phone), { lastUserMessageAt: w.last_user_message_at, active: null });
    const pending = await m
      .createQueryBuilder(Process, 'p')
      .setLock('pessimistic_write')
      .where(`(p.line_id, p.phone) IN (SELECT * FROM unnest(CAST(:lineIds AS text[]), CAST(:phones AS text[])))`, {
        lineIds: windows.map((w) => w.line_id),
        phones: windows.map((w) => w.phone),
      })
      .andWhere(`p.status = 'pending'`)
      .orderBy('p.line_id')
      .addOrderBy('p.phone')
      .getMany();
    for (const p of pending) states.get(userKey(p.lineId, p.phone))!.active = p;
    return states;
  }

  /** Called (in the same transaction) whenever a user's message starts an inbound flow. */
  onInboundStart(listener: InboundStartListener): void {
    this.inboundStartListeners.push(listener);
  }

  /** Registers a module's reaction to every process end (from its constructor): runs in the ending transaction. */
  onFinish(listener: ProcessFinishListener): void {
    this.finishListeners.push(listener);
  }

  /** The user's pending process (null once it finished, also in this transaction). */
  activeOf(ctx: InboundContext): Process | null {
    return ctx.state.active?.status === 'pending' ? ctx.state.active : null;
  }

  /** Expires the user's pending process if its time ran out (before anything looks at the message). */
  async expireIfDue(ctx: InboundContext): Promise<void> {
    const active = this.activeOf(ctx);
    if (active && active.expiresAt.getTime() <= this.clock.now().getTime()) await this.finish(ctx.manager, active, 'expired', 'expired');
  }

  /** A message delivered after its 24-hour window closed (Meta retries for days) is kept, but nothing may be sent. */
  private windowOpen(ctx: InboundContext): boolean {
    return ctx.state.lastUserMessageAt.getTime() + WINDOW_MS > this.clock.now().getTime();
  }

  /** The user opted out: their running process is cancelled, nothing is sent. */
  async cancelActive(ctx: InboundContext): Promise<void> {
    const active = this.activeOf(ctx);
    if (active) await this.finish(ctx.manager, active, 'cancelled', 'user_cancelled');
  }

  /**
   * The user accepted an invitation to `flowId` (unless a process runs, or the window is closed). `optIn`: the
   * opt-in the invitation was sent under, for the evidence.
   */
  async startInvited(ctx: InboundContext, flowId: string, originId: string, optIn: Record<string, unknown>): Promise<void> {
    if (this.activeOf(ctx) || !this.windowOpen(ctx)) return;
    const started = await this.startIfStartable(ctx.manager, this.newProcess(ctx, flowId, 'outbound', originId, optIn));
    if (started) ctx.state.active = started;
  }

  /** The user declined an invitation: recorded as a failed process (`user_declined`), even while another runs. */
  async recordDeclined(ctx: InboundContext, flowId: string, originId: string, optIn: Record<string, unknown>): Promise<void> {
    const input = this.newProcess(ctx, flowId, 'outbound', originId, optIn);
    const declined = await this.createProcess(ctx.manager, input, 'declined').catch((err: unknown) => (err instanceof AppError && err.status < 500 ? null : Promise.reject(err)));
    if (!declined) return;
    await this.record(ctx.manager, declined.process, 'process.declined', startedPayload(declined.process, optIn));
    for (const listener of this.finishListeners) await listener(ctx.manager, declined.process);
    await this.hooks.emit(ctx.manager, { tenantId: ctx.line.tenantId, type: 'process.failed', flowId, data: () => this.results.result(ctx.manager, declined.process) });
  }

  /** An exit keyword (`salir`, `exit`, or the tenant's) cancels a running process; returns whether it did. */
  async exitIfAsked(ctx: InboundContext): Promise<boolean> {
    const active = this.activeOf(ctx);
    const typed = ctx.ev.text ?? ctx.ev.replyTitle;
    if (!active || !typed) return false;
    const settings = await this.tenantSettings(ctx.line.tenantId);
    if (!settings.exit.includes(typed.trim().toLowerCase())) return false;
    await this.messages.linkToProcess(ctx.manager, ctx.message.id, active.id);
    const def = await this.definition(active);
    await this.send(ctx.manager, active, { kind: 'text', body: text(def.settings.language, 'exit') });
    await this.finish(ctx.manager, active, 'cancelled', 'user_cancelled');
    return true;
  }

  /**
   * The engine proper: the message answers the step the user's process waits at (or a follow-up), else starts the
   * inbound flow it matches, else gets the tenant's fallback text.
   */
  async handleInbound(ctx: InboundContext): Promise<void> {
    const { manager: m, line, message, phone } = ctx;
    const { lastUserMessageAt } = ctx.state;
    const input = this.inputOf(ctx.ev, message, ctx.mediaFileId);
    const active = this.activeOf(ctx);
    if (active) {
      await this.messages.linkToProcess(m, message.id, active.id);
      const def = await this.definition(active);
      const waiting = def.steps.find((s) => s.id === active.currentStepId);
      const received = receivedPayload(ctx.ev, message, !!waiting && !!this.steps.of(waiting).secretAnswers);
      // Follow-ups exist only for flows that enable them: the others skip these queries.
      if (def.settings.enable_follow_up) {
        // Only a tap on a follow-up's buttons can answer one: other messages skip the lookup.
        const tapped = followUpAnswerOf(input.replyId);
        const followUp = tapped ? await this.followUps.findPendingAnswer(m, active.id) : null;
        if (followUp && tapped) {
          await this.record(m, active, 'message.received', received);
          await this.followUps.recordAnswer(m, followUp.id, tapped);
          if (tapped === 'no') await this.finish(m, active, 'failed', 'user_cancelled');
          else await this.reask(m, active, lastUserMessageAt);
          return;
        }
        // Any other message answers the waiting question as usual; a follow-up not sent yet is no longer needed.
        await this.followUps.cancel(m, active.id, 'answered');
      }
      await this.answer(m, active, input, lastUserMessageAt, received);
      return;
    }

    if (!this.windowOpen(ctx)) return;
    const inbound = input.text ? await this.inbounds.match(line.id, input.text) : null;
    const started = inbound ? await this.startIfStartable(m, this.newProcess(ctx, inbound.flowId, 'inbound', inbound.id, inboundOptIn(ctx.ev, message))) : null;
    if (inbound && started) {
      ctx.state.active = started;
      await this.messages.linkToProcess(m, message.id, started.id);
      await this.record(m, started, 'message.received', receivedPayload(ctx.ev, message));
      const start = { tenantId: line.tenantId, lineId: line.id, phone, at: this.clock.now(), flowId: inbound.flowId };
      for (const listener of this.inboundStartListeners) await listener(m, start);
      return;
    }
    const settings = await this.tenantSettings(line.tenantId);
    if (settings.fallback) {
      await this.messages.enqueue(m, { tenantId: line.tenantId, lineId: line.id, phone, message: { kind: 'text', body: settings.fallback } });
    }
  }

  private newProcess(ctx: InboundContext, flowId: string, origin: Process['origin'], originId: string, optIn: Record<string, unknown>): NewProcess {
    return { line: ctx.line, phone: ctx.phone, flowId, origin, originId, now: this.clock.now(), lastUserMessageAt: ctx.state.lastUserMessageAt, optIn };
  }

  /** Where a process runs and whether it still does (for work done away from the user's messages). */
  async whereIs(processId: string, m: EntityManager): Promise<Pick<Process, 'lineId' | 'phone' | 'status'> | null> {
    return m.findOne(Process, { where: { id: processId }, select: { lineId: true, phone: true, status: true } });
  }

  /** Ends a pending process at the client's request. */
  async cancelByClient(m: EntityManager, tenantId: string, processId: string): Promise<Process> {
    const process = await m.createQueryBuilder(Process, 'p').setLock('pessimistic_write').where('p.id = :processId AND p.tenant_id = :tenantId', { processId, tenantId }).getOne();
    if (!process) throw AppError.notFound('Process', processId);
    if (process.status !== 'pending') {
      throw new AppError(HttpStatus.CONFLICT, ConversationErrorCode.PROCESS_FINISHED, `Process ${processId} already finished with status ${process.status}`, {
        status: process.status,
      });
    }
    await this.finish(m, process, 'cancelled', 'client_cancelled');
    return process;
  }

  /**
   * Work that a step started away from the user's messages (signing, a provider call) is done: the process leaves
   * `stepId` as if it had been answered (`accept`: on to the next step) or ends (`fail`), after `send` goes out. Takes
   * the process row lock in `m`'s transaction; does nothing (returns false) when the process no longer waits at that
   * step, because it finished, expired or was cancelled meanwhile.
   */
  async resume(
    m: EntityManager,
    processId: string,
    stepId: string,
    outcome: { kind: 'accept' } | { kind: 'fail'; reason: string },
    send: OutgoingMessage[] = [],
  ): Promise<boolean> {
    const process = await m.createQueryBuilder(Process, 'p').setLock('pessimistic_write').where('p.id = :processId', { processId }).getOne();
    if (!process || process.status !== 'pending' || process.currentStepId !== stepId) return false;
    const def = await this.definition(process);
    const step = def.steps.find((s) => s.id === stepId);
    if (!step) return false;
    // Read without a lock: the webhook path locks the window row before the process row, never after.
    const [window]: Array<{ last_user_message_at: Date }> = await m.query(`SELECT last_user_message_at FROM conversation_windows WHERE line_id = $1 AND phone = $2`, [
      process.lineId,
      process.phone,
    ]);
    for (const message of send) await this.send(m, process, message);
    if (outcome.kind === 'fail') {
      await this.finish(m, process, 'failed', outcome.reason);
      return true;
    }
    if (def.settings.enable_follow_up) await this.followUps.cancel(m, process.id, 'answered');
    await this.runFrom(m, process, def, this.nextStep(def, step), window?.last_user_message_at ?? process.startedAt);
    return true;
  }

  /** Marks due pending processes expired (expiration_minutes reached, or the 24-hour window closed while waiting). */
  async expire(m: EntityManager, processes: Process[]): Promise<void> {
    for (const process of processes) if (process.status === 'pending') await this.finish(m, process, 'expired', 'expired');
  }

  /** Starts the flow, or returns null when it can no longer start (archived, deleted): the message is kept anyway. */
  private async startIfStartable(m: EntityManager, input: NewProcess): Promise<Process | null> {
    try {
      return await this.start(m, input);
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return null;
      throw err;
    }
  }

  private async start(m: EntityManager, input: NewProcess): Promise<Process> {
    const { process, definition } = await this.createProcess(m, input);
    await this.record(m, process, 'process.started', startedPayload(process, input.optIn));
    await this.hooks.emit(m, { tenantId: process.tenantId, type: 'process.started', flowId: input.flowId, data: () => this.results.result(m, process) });
    await this.runFrom(m, process, definition, definition.steps[0], input.lastUserMessageAt);
    return process;
  }

  /** A new process row: `pending`, or already `failed` for a declined invitation. */
  private async createProcess(
    m: EntityManager,
    { line, phone, flowId, origin, originId, now, lastUserMessageAt }: NewProcess,
    as: 'pending' | 'declined' = 'pending',
  ): Promise<{ process: Process; definition: FlowDefinition }> {
    const flow = await this.flows.assertStartable(line.tenantId, flowId);
    const definition = flow.definition;
    this.flowCache.set(`${flowId}:${flow.version}`, definition);
    const process = m.create(Process, {
      id: newId('PRC'),
      tenantId: line.tenantId,
      lineId: line.id,
      phone,
      flowId,
      flowVersion: flow.version,
      origin,
      originId,
      status: as === 'declined' ? 'failed' : 'pending',
      failureReason: as === 'declined' ? 'user_declined' : null,
      currentStepId: null,
      stepAttempts: 0,
      askedAt: null,
      startedAt: now,
      finishedAt: as === 'declined' ? now : null,
      expiresAt: this.expiry(now, definition, lastUserMessageAt),
      updatedAt: now,
      evidenceSeq: 0,
      evidenceHead: null,
      purgedAt: null,
    });
    await WriteBehind.insert(m, Process, [process]);
    return { process, definition };
  }

  /**
   * Applies the user's message to the step the process waits at. The message's evidence (`received`) is recorded with
   * what it answered (`answer`: step, outcome, value), one event per message; what the step records while it judges
   * the answer (a code verified, say) follows it.
   */
  private async answer(m: EntityManager, process: Process, input: UserInput, lastUserMessageAt: Date, received: Record<string, unknown>): Promise<void> {
    const def = await this.definition(process);
    process.expiresAt = this.expiry(process.startedAt, def, lastUserMessageAt);
    const step = def.steps.find((s) => s.id === process.currentStepId);
    const type = step && this.steps.of(step);
    if (!step || !type?.answer) {
      // Nothing to answer (the process waits for nothing, or at a step that no longer waits): keep it as it is.
      await this.record(m, process, 'message.received', received);
      await this.save(m, process);
      return;
    }
    // Events the step records while it judges the answer wait for the message's own, which comes first.
    let held: EvidenceInput[] | null = [];
    const ctx: StepContext = {
      ...this.stepContext(m, process, def),
      evidence: async (kind, payload) => {
        if (held) held.push({ type: kind, occurredAt: this.clock.now(), payload });
        else await this.record(m, process, kind, payload);
      },
    };
    const receivedAt = this.clock.now();
    const outcome = await type.answer(step, input, ctx);
    await WriteBehind.insert(m, ProcessAnswer, [
      {
        id: newId('ANS'),
        processId: process.id,
        stepId: step.id,
        stepType: step.type,
        value: outcome.value?.slice(0, 4096) ?? null,
        normalized: outcome.kind === 'accept' ? (outcome.normalized ?? null) : null,
        valid: outcome.kind === 'accept',
        error: outcome.kind === 'invalid' ? outcome.error : outcome.kind === 'fail' ? outcome.reason : null,
        messageId: input.messageId,
        mediaFileId: outcome.kind === 'accept' ? (outcome.mediaFileId ?? null) : null,
        createdAt: this.clock.now(),
      },
    ]);
    const answered = {
      step_id: step.id,
      step_type: step.type,
      outcome: outcome.kind,
      value: outcome.value?.slice(0, 4096) ?? null,
      ...(outcome.kind === 'invalid' ? { error: outcome.error } : {}),
      ...(outcome.kind === 'accept' && outcome.mediaFileId ? { media_file_id: outcome.mediaFileId } : {}),
    };
    const whileJudging = held;
    held = null;
    await this.recordMany(m, process, [{ type: 'message.received', occurredAt: receivedAt, payload: { ...received, answer: answered } }, ...whileJudging]);
    if (outcome.kind === 'fail') return this.finish(m, process, 'failed', outcome.reason);
    if (outcome.kind === 'stay') {
      for (const message of outcome.send) await this.send(m, process, message);
      await this.save(m, process);
      return;
    }
    if (outcome.kind === 'invalid') {
      process.stepAttempts += 1;
      const limit = type.maxAttempts?.(step);
      if (limit !== undefined && process.stepAttempts >= limit) return this.finish(m, process, 'failed', 'validation_failed');
      await this.send(m, process, { kind: 'text', body: outcome.reply });
      for (const prompt of await this.reprompt(step, ctx)) await this.send(m, process, prompt);
      process.askedAt = this.clock.now();
      await this.save(m, process);
      return this.scheduleFollowUp(m, process, def, lastUserMessageAt);
    }
    return this.runFrom(m, process, def, this.nextStep(def, step, outcome.next), lastUserMessageAt);
  }

  /** What asking `step` again sends. */
  private async reprompt(step: StepDefinition, ctx: StepContext) {
    const type = this.steps.of(step);
    return type.reprompt ? type.reprompt(step, ctx) : (await type.enter(step, ctx)).send;
  }

  private stepContext(m: EntityManager, process: Process, def: FlowDefinition): StepContext {
    return {
      language: def.settings.language,
      manager: m,
      process,
      now: this.clock.now(),
      steps: def.steps,
      evidence: (type, payload) => this.record(m, process, type, payload),
    };
  }

  /** "Yes" to a follow-up: the unanswered question is asked again. */
  private async reask(m: EntityManager, process: Process, lastUserMessageAt: Date): Promise<void> {
    const def = await this.definition(process);
    process.expiresAt = this.expiry(process.startedAt, def, lastUserMessageAt);
    const step = def.steps.find((s) => s.id === process.currentStepId);
    if (step) for (const prompt of await this.reprompt(step, this.stepContext(m, process, def))) await this.send(m, process, prompt);
    process.askedAt = this.clock.now();
    await this.save(m, process);
  }

  /** The follow-up for the question just asked (a no-op unless the flow enables follow-ups). */
  private async scheduleFollowUp(m: EntityManager, process: Process, def: FlowDefinition, lastUserMessageAt: Date): Promise<void> {
    if (!def.settings.enable_follow_up || !process.currentStepId || !process.askedAt) return;
    await this.followUps.schedule(m, {
      tenantId: process.tenantId,
      processId: process.id,
      lineId: process.lineId,
      phone: process.phone,
      stepId: process.currentStepId,
      askedAt: process.askedAt,
      windowClosesAt: new Date(lastUserMessageAt.getTime() + WINDOW_MS),
      settings: def.settings,
    });
  }

  /** Enters steps from `first` on, through those that go on by themselves, until one waits for an answer or finishes. */
  private async runFrom(m: EntityManager, process: Process, def: FlowDefinition, first: StepDefinition | undefined, lastUserMessageAt: Date): Promise<void> {
    const ctx = this.stepContext(m, process, def);
    let step = first;
    for (let guard = 0; step && guard < def.steps.length + 1; guard++) {
      const entry = await this.steps.of(step).enter(step, ctx);
      for (const message of entry.send) await this.send(m, process, message);
      if (entry.then.kind === 'finish') return this.finish(m, process, entry.then.status, entry.then.reason);
      if (entry.then.kind === 'wait') {
        Object.assign(process, { currentStepId: step.id, stepAttempts: 0, askedAt: this.clock.now() });
        await this.save(m, process);
        if (entry.then.followUp === false) return;
        return this.scheduleFollowUp(m, process, def, lastUserMessageAt);
      }
      step = this.nextStep(def, step);
    }
    // Flow validation makes every path end at a step that finishes; an old definition that does not is taken as finished.
    return this.finish(m, process, 'succeeded', null);
  }

  private nextStep(def: FlowDefinition, step: StepDefinition, override?: string): StepDefinition | undefined {
    const id = override ?? step.next;
    if (id) return def.steps.find((s) => s.id === id);
    return def.steps[def.steps.indexOf(step) + 1];
  }

  private async finish(m: EntityManager, process: Process, status: Exclude<ProcessStatus, 'pending'>, reason: string | null): Promise<void> {
    const now = this.clock.now();
    Object.assign(process, { status, failureReason: status === 'succeeded' ? null : reason, finishedAt: now, currentStepId: null });
    await this.record(m, process, 'process.finished', { status, failure_reason: process.failureReason });
    await this.save(m, process);
    if ((await this.definition(process)).settings.enable_follow_up) await this.followUps.cancel(m, process.id, 'cancelled');
    for (const listener of this.finishListeners) await listener(m, process);
    await this.hooks.emit(m, {
      tenantId: process.tenantId,
      type: status === 'succeeded' ? 'process.succeeded' : 'process.failed',
      flowId: process.flowId,
      data: () => this.results.result(m, process),
    });
  }

  private async save(m: EntityManager, process: Process): Promise<void> {
    process.updatedAt = this.clock.now();
    await WriteBehind.update(m, Process, process.id, {
      status: process.status,
      failureReason: process.failureReason,
      currentStepId: process.currentStepId,
      stepAttempts: process.stepAttempts,
      askedAt: process.askedAt,
      finishedAt: process.finishedAt,
      expiresAt: process.expiresAt,
      updatedAt: process.updatedAt,
      evidenceSeq: process.evidenceSeq,
      evidenceHead: process.evidenceHead,
    });
  }

  private async send(m: EntityManager, process: Process, message: OutgoingMessage): Promise<void> {
    const queued = await this.messages.enqueue(m, { tenantId: process.tenantId, lineId: process.lineId, phone: process.phone, message, conversationId: process.id });
    await this.record(m, process, 'message.queued', { message_id: queued.id, content: maskAuthCode(message) });
  }

  /**
   * Appends to the process's evidence chain in `m`'s transaction and moves the head on the process (saved with the
   * process row, which the engine holds locked).
   */
  private async record(m: EntityManager, process: Process, type: string, payload: Record<string, unknown>): Promise<void> {
    await this.recordMany(m, process, [{ type, occurredAt: this.clock.now(), payload }]);
  }

  private async recordMany(m: EntityManager, process: Process, inputs: EvidenceInput[]): Promise<void> {
    const head = await this.evidence.append(
      m,
      { tenantId: process.tenantId, processId: process.id, head: { seq: process.evidenceSeq, hash: process.evidenceHead ?? GENESIS_HASH } },
      inputs,
    );
    process.evidenceSeq = head.seq;
    process.evidenceHead = head.hash;
    await WriteBehind.update(m, Process, process.id, { evidenceSeq: head.seq, evidenceHead: head.hash });
  }

  /**
   * Records events of a process from outside the engine's own steps (a job that delivered a code, a signature): takes
   * the process row lock in `m`'s transaction, then appends.
   */
  async recordEvidence(m: EntityManager, processId: string, inputs: Array<{ type: string; payload: Record<string, unknown> }>): Promise<void> {
    const process = await m.createQueryBuilder(Process, 'p').setLock('pessimistic_write').where('p.id = :processId', { processId }).getOne();
    if (!process) return;
    const now = this.clock.now();
    await this.recordMany(
      m,
      process,
      inputs.map((i) => ({ ...i, occurredAt: now })),
    );
  }

  /**
   * Finished, not yet purged processes of the tenant that ended before `cutoff`, oldest first, locked for the caller's
   * transaction (other instances skip them); `keep` are left out (legal holds).
   */
  async purgeCandidates(m: EntityManager, tenantId: string, cutoff: Date, keep: string[], limit: number): Promise<Process[]> {
    return m
      .createQueryBuilder(Process, 'p')
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .where('p.tenant_id = :tenantId AND p.finished_at IS NOT NULL AND p.purged_at IS NULL AND p.finished_at < :cutoff', { tenantId, cutoff })
      .andWhere('p.id <> ALL(:keep)', { keep })
      .orderBy('p.finished_at')
      .limit(limit)
      .getMany();
  }

  /**
   * The retention purge of one finished process, in `m`'s transaction: its evidence events go (a tombstone keeps the
   * chain's head), its answers, the content and media of its messages, and its phone number is masked. Its status,
   * times and chain head stay.
   */
  async purge(m: EntityManager, process: Process, maskedPhone: string): Promise<void> {
    const now = this.clock.now();
    await this.evidence.purge(m, {
      tenantId: process.tenantId,
      processId: process.id,
      head: { seq: process.evidenceSeq, hash: process.evidenceHead ?? GENESIS_HASH },
      purgedAt: now,
    });
    await m.delete(ProcessAnswer, { processId: process.id });
    await this.messages.purgeConversation(m, process.id);
    await m.update(Process, { id: process.id }, { phone: maskedPhone, purgedAt: now, updatedAt: now });
  }

  /** When each process ended and was purged (absent: no such process). */
  async endsOf(m: EntityManager, ids: string[]): Promise<Map<string, { tenantId: string; finishedAt: Date | null; purgedAt: Date | null }>> {
    const rows = ids.length ? await m.find(Process, { where: { id: In(ids) }, select: { id: true, tenantId: true, finishedAt: true, purgedAt: true } }) : [];
    return new Map(rows.map((r) => [r.id, { tenantId: r.tenantId, finishedAt: r.finishedAt, purgedAt: r.purgedAt }]));
  }

  /** The tenant's processes of a person (any status), newest first. */
  processesOf(m: EntityManager, tenantId: string, phone: string): Promise<Process[]> {
    return m.find(Process, { where: { tenantId, phone }, order: { startedAt: 'DESC' } });
  }

  /** Processes with deferred evidence waiting, oldest first. */
  processesWithDeferredEvidence(m: EntityManager, limit: number): Promise<string[]> {
    return this.evidence.deferredProcesses(m, limit);
  }

  /** Appends a process's deferred evidence to its chain, under its row lock (false: another transaction holds it). */
  async appendDeferred(m: EntityManager, processId: string): Promise<boolean> {
    const [locked] = await m.query(`SELECT id FROM processes WHERE id = $1 FOR UPDATE SKIP LOCKED`, [processId]);
    const exists = locked ?? (await m.query(`SELECT id FROM processes WHERE id = $1`, [processId]))[0];
    if (exists && !locked) return false;
    const inputs = await this.evidence.takeDeferred(m, processId);
    // A process that is gone (or purged) keeps nothing more.
    const process = locked ? await m.findOneBy(Process, { id: processId, purgedAt: IsNull() }) : null;
    if (process && inputs.length) await this.recordMany(m, process, inputs);
    return true;
  }

  /** A process ends at expiration_minutes after its start, or when the 24-hour window closes, whichever is first. */
  private expiry(startedAt: Date, def: FlowDefinition, lastUserMessageAt: Date): Date {
    return new Date(Math.min(startedAt.getTime() + def.settings.expiration_minutes * 60_000, lastUserMessageAt.getTime() + WINDOW_MS));
  }

  /** Flow versions never change, so they are cached for good. */
  private async definition(process: Process): Promise<FlowDefinition> {
    const key = `${process.flowId}:${process.flowVersion}`;
    let def = this.flowCache.get(key);
    if (!def) {
      def = (await this.flows.getVersion(process.tenantId, process.flowId, process.flowVersion)).definition;
      this.flowCache.set(key, def);
    }
    return def;
  }

  private async tenantSettings(tenantId: string): Promise<{ exit: string[]; fallback: string | null }> {
    const s = await this.tenants.settingsOf(tenantId);
    return {
      exit: (s.exit_keywords?.length ? s.exit_keywords : DEFAULT_KEYWORDS.exit).map((k) => k.trim().toLowerCase()),
      fallback: s.fallback_text ?? null,
    };
  }

  private inputOf(ev: InboundMessageEvent, message: Message, mediaFileId: string | null): UserInput {
    return {
      type: ev.type,
      text: ev.text ?? ev.replyTitle ?? null,
      replyId: ev.replyId ?? null,
      messageId: message.id,
      mediaFileId,
      mediaMimeType: ev.media?.mimeType ?? null,
    };
  }
}

/** What a process's first event says of it. */
function startedPayload(p: Process, optIn: Record<string, unknown>): Record<string, unknown> {
  return { flow_id: p.flowId, flow_version: p.flowVersion, line_id: p.lineId, phone: p.phone, origin: p.origin, origin_id: p.originId, status: p.status, opt_in: optIn };
}

/** Writing an inbound's message is the person's opt-in (also recorded as a consent, by the inbound-start listeners). */
function inboundOptIn(ev: InboundMessageEvent, message: Message): Record<string, unknown> {
  return { source: 'inbound_flow', message_id: message.id, provider_message_id: ev.wamid, at: ev.timestamp.toISOString() };
}

/** An inbound message as evidence: ids, type, text, the media's hash as the provider gave it (never its bytes). */
function receivedPayload(ev: InboundMessageEvent, message: Message, secret = false): Record<string, unknown> {
  return {
    message_id: message.id,
    provider_message_id: ev.wamid,
    type: ev.type,
    text: secret && ev.text ? '[redacted]' : (ev.text ?? null),
    reply_id: ev.replyId ?? null,
    reply_title: ev.replyTitle ?? null,
    media: ev.media ? { id: ev.media.id ?? null, mime_type: ev.media.mimeType ?? null, sha256: ev.media.sha256 ?? null } : null,
    sent_at: ev.timestamp.toISOString(),
  };
}

/** The key of a (line, user) pair in `prepare`'s states. */
export function userKey(lineId: string, phone: string): string {
  return `${lineId} ${phone}`;
}
