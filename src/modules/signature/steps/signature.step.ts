import { Injectable } from '@nestjs/common';
import { NEXT, plainExit } from '../../conversations/steps/common.js';
import { LIMITS } from '../../flows/flow-definition.js';
import { RegisterStepType, type StepChecker, type StepContext, type StepDefinition, type StepEntry, type StepOutcome, type StepType } from '../../flows/steps/step-type.js';
import { ContractsService } from '../contracts.service.js';
import { contractText } from '../texts.js';

export interface SignatureStep {
  id: string;
  type: 'signature';
  next?: string;
  text?: string;
  document_step?: string;
  signer_name_step?: string;
}

/**
 * Signs the contract of a `document` step: a signature page appended to a copy, the whole PAdES-signed, stored as a
 * new document and sent back in the chat with `text`; then `signature.completed` and on to the next step. The
 * process waits at this step while the signing job runs (and while a time-stamping authority that is down is retried).
 */
@Injectable()
@RegisterStepType({
  type: 'signature',
  summary:
    'Appends a signature page to the contract of a document step, signs it (PAdES), sends the signed PDF back with `text`, emits signature.completed and goes on; the process waits here while signing runs',
  schema: {
    properties: {
      next: NEXT,
      text: { type: 'string', maxLength: LIMITS.interactiveText, description: 'Caption of the signed PDF; default: Este es tu documento firmado electrónicamente.' },
      document_step: { type: 'string', description: 'The document step whose contract is signed; default: the last document step before this one' },
      signer_name_step: { type: 'string', description: "A step whose answer is the signer's name, when the send gave no signer_name (else the WhatsApp profile name)" },
    },
  },
})
export class SignatureStepType implements StepType<SignatureStep> {
  readonly fields = ['next', 'text', 'document_step', 'signer_name_step'];

  constructor(private readonly contracts: ContractsService) {}

  check(_: Record<string, unknown>, c: StepChecker): void {
    c.text('text', LIMITS.interactiveText, true);
    c.text('document_step', LIMITS.stepId, true);
    c.text('signer_name_step', LIMITS.stepId, true);
  }

  async verify(step: SignatureStep, flow: { steps: StepDefinition[] }) {
    const problems: Array<{ field: string; message: string }> = [];
    if (!documentStepOf(step, flow.steps)) {
      problems.push(
        step.document_step
          ? { field: 'document_step', message: `document_step ${step.document_step} is not a document step of this flow` }
          : { field: 'document_step', message: 'a signature step needs a document step before it (or document_step naming one)' },
      );
    }
    if (step.signer_name_step && !flow.steps.some((s) => s.id === step.signer_name_step && s.type === 'question')) {
      problems.push({ field: 'signer_name_step', message: `signer_name_step ${step.signer_name_step} is not a question step of this flow` });
    }
    return problems;
  }

  exits = plainExit;

  async enter(step: SignatureStep, ctx: StepContext): Promise<StepEntry> {
    const documentStepId = documentStepOf(step, ctx.steps)?.id;
    const contract = documentStepId ? await this.contracts.find(ctx.manager, ctx.process.id, documentStepId) : null;
    if (!contract) return { send: [], then: { kind: 'finish', status: 'failed', reason: 'document_missing' } };
    await this.contracts.startSigning(ctx.manager, {
      processId: ctx.process.id,
      tenantId: ctx.process.tenantId,
      stepId: step.id,
      documentStepId: contract.stepId,
      language: ctx.language,
      text: step.text ?? null,
      signerNameStep: step.signer_name_step ?? null,
    });
    // The wait is for the service: no follow-up asks the person whether they are still there.
    return { send: [], then: { kind: 'wait', followUp: false } };
  }

  reprompt(_: SignatureStep, ctx: StepContext) {
    return [{ kind: 'text' as const, body: contractText(ctx.language, 'signing') }];
  }

  /** Whatever the person writes while signing runs: they are told it is on its way. */
  answer(_: SignatureStep, __: unknown, ctx: StepContext): StepOutcome {
    return { kind: 'stay', value: null, send: [{ kind: 'text', body: contractText(ctx.language, 'signing') }] };
  }
}

/** The step's document step: the named one, else the last document step listed before it. */
function documentStepOf(step: SignatureStep, steps: readonly StepDefinition[]): StepDefinition | undefined {
  if (step.document_step) return steps.find((s) => s.id === step.document_step && s.type === 'document');
  const at = steps.findIndex((s) => s.id === step.id);
  return steps
    .slice(0, at)
    .reverse()
    .find((s) => s.type === 'document');
}
