import { Injectable } from '@nestjs/common';
import type { OutgoingMessage } from '../../../whatsapp/whatsapp.types.js';
import { NEXT, plainExit } from '../../conversations/steps/common.js';
import { LIMITS } from '../../flows/flow-definition.js';
import { RegisterStepType, type StepChecker, type StepContext, type StepEntry, type StepOutcome, type StepType, type UserInput } from '../../flows/steps/step-type.js';
import { matchOption } from '../../flows/validators/match-option.js';
import { DocumentsService } from '../../documents/documents.service.js';
import { text } from '../../conversations/steps/texts.js';
import { ContractsService } from '../contracts.service.js';
import { contractText } from '../texts.js';

export interface DocumentStep {
  id: string;
  type: 'document';
  next?: string;
  text: string;
  document_id?: string;
  filename?: string;
  accept_title?: string;
  decline_title?: string;
}

const CONFIRM = 'document:reviewed';
const REJECT = 'document:rejected';

/** Sends the contract as a WhatsApp document, then asks whether it was received and reviewed. */
@Injectable()
@RegisterStepType({
  type: 'document',
  summary:
    "Sends the contract (the step's document_id, else the invitation's) as a PDF document with `text` as caption, then asks with two buttons whether it was received and reviewed; declining ends the process as failed (document_rejected)",
  schema: {
    properties: {
      next: NEXT,
      text: { type: 'string', maxLength: LIMITS.interactiveText, description: "The document message's caption" },
      document_id: { type: 'string', description: 'A document of yours (POST /v1/documents); absent: the one the invitation gives (document_id on the send)' },
      filename: { type: 'string', maxLength: 240, description: 'The name the person sees; default: the document’s filename' },
      accept_title: { type: 'string', maxLength: LIMITS.buttonTitle, description: 'Default: Sí, lo revisé / Yes, I reviewed it / Sim, revisei' },
      decline_title: { type: 'string', maxLength: LIMITS.buttonTitle, description: 'Default: No / No / Não' },
    },
    required: ['text'],
  },
})
export class DocumentStepType implements StepType<DocumentStep> {
  readonly fields = ['next', 'text', 'document_id', 'filename', 'accept_title', 'decline_title'];

  constructor(
    private readonly contracts: ContractsService,
    private readonly documents: DocumentsService,
  ) {}

  check(s: Record<string, unknown>, c: StepChecker): void {
    c.text('text', LIMITS.interactiveText);
    c.text('document_id', 64, true);
    c.text('filename', 240, true);
    if (typeof s.filename === 'string' && !/\.pdf$/i.test(s.filename.trim())) c.error('filename', 'filename must end in .pdf');
    c.text('accept_title', LIMITS.buttonTitle, true);
    c.text('decline_title', LIMITS.buttonTitle, true);
    if (typeof s.accept_title === 'string' && typeof s.decline_title === 'string' && s.accept_title.trim().toLowerCase() === s.decline_title.trim().toLowerCase()) {
      c.error('decline_title', 'decline_title must differ from accept_title');
    }
  }

  async verify(step: DocumentStep, flow: { tenantId: string }) {
    if (!step.document_id || (await this.documents.find(flow.tenantId, step.document_id))) return [];
    return [{ field: 'document_id', message: `document_id ${step.document_id} is not one of your documents (POST /v1/documents)` }];
  }

  exits = plainExit;

  async enter(step: DocumentStep, ctx: StepContext): Promise<StepEntry> {
    const found = await this.contracts.documentFor(ctx.manager, ctx.process, step.document_id);
    if (!found) return { send: [], then: { kind: 'finish', status: 'failed', reason: 'document_missing' } };
    await this.contracts.recordSent(ctx.manager, ctx.process, step.id, found.document, found.signerName);
    await ctx.evidence('document.sent', { step_id: step.id, document_id: found.document.id, sha256: found.document.sha256, filename: found.document.filename });
    const file: OutgoingMessage = {
      kind: 'file',
      fileId: found.document.fileId,
      mediaType: 'document',
      filename: step.filename?.trim() ?? found.document.filename,
      caption: step.text,
    };
    return { send: [file, this.question(step, ctx)], then: { kind: 'wait' } };
  }

  /** Asked again: the question, not the document. */
  reprompt(step: DocumentStep, ctx: StepContext): OutgoingMessage[] {
    return [this.question(step, ctx)];
  }

  async answer(step: DocumentStep, input: UserInput, ctx: StepContext): Promise<StepOutcome> {
    const options = this.options(step, ctx);
    const option = (input.replyId ? options.find((o) => o.id === input.replyId) : null) ?? (input.text ? matchOption(input.text, options) : null);
    if (!option) return { kind: 'invalid', value: input.replyId ?? input.text, error: 'unknown_option', reply: text(ctx.language, 'choose') };
    const contract = await this.contracts.find(ctx.manager, ctx.process.id, step.id);
    const about = { step_id: step.id, document_id: contract?.originalDocumentId ?? null, sha256: contract?.originalSha256 ?? null };
    if (option.id === REJECT) {
      await ctx.evidence('document.rejected', about);
      return { kind: 'fail', value: 'rejected', reason: 'document_rejected' };
    }
    await this.contracts.confirm(ctx.manager, ctx.process.id, step.id);
    await ctx.evidence('document.confirmed', about);
    return { kind: 'accept', value: 'reviewed', normalized: option.title };
  }

  private question(step: DocumentStep, ctx: StepContext): OutgoingMessage {
    return { kind: 'buttons', body: contractText(ctx.language, 'reviewed'), buttons: this.options(step, ctx) };
  }

  private options(step: DocumentStep, ctx: StepContext) {
    return [
      { id: CONFIRM, title: step.accept_title ?? contractText(ctx.language, 'reviewedYes') },
      { id: REJECT, title: step.decline_title ?? contractText(ctx.language, 'reviewedNo') },
    ];
  }
}
