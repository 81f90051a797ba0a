import { Injectable } from '@nestjs/common';
import { FAILURE_REASON, LIMITS } from '../../flows/flow-definition.js';
import { RegisterStepType, type StepChecker, type StepEntry, type StepExit, type StepType } from '../../flows/steps/step-type.js';
import { textPrompt } from './common.js';

export interface EndStep {
  id: string;
  type: 'end';
  outcome: 'succeeded' | 'failed';
  text: string;
  failure_reason?: string;
}

/** Finishes the process with its outcome and closing text. */
@Injectable()
@RegisterStepType({
  type: 'end',
  summary: 'Sends the closing text and finishes the process as succeeded or failed',
  schema: {
    properties: {
      outcome: { type: 'string', enum: ['succeeded', 'failed'] },
      text: { type: 'string', maxLength: LIMITS.text },
      failure_reason: { type: 'string', pattern: FAILURE_REASON.source, description: 'outcome failed only; default flow_failed' },
    },
    required: ['outcome', 'text'],
  },
})
export class EndStepType implements StepType<EndStep> {
  readonly fields = ['outcome', 'text', 'failure_reason'];

  check(s: Record<string, unknown>, c: StepChecker): void {
    c.oneOf('outcome', ['succeeded', 'failed']);
    c.text('text', LIMITS.text);
    if (s.failure_reason !== undefined) {
      if (s.outcome !== 'failed') c.error('failure_reason', 'failure_reason applies only to outcome failed');
      else if (typeof s.failure_reason !== 'string' || !FAILURE_REASON.test(s.failure_reason)) {
        c.error('failure_reason', 'failure_reason must be snake_case, at most 64 characters (e.g. not_eligible)');
      }
    }
  }

  exits(): StepExit[] {
    return [];
  }

  enter(step: EndStep): StepEntry {
    return {
      send: textPrompt(step),
      then: { kind: 'finish', status: step.outcome, reason: step.outcome === 'failed' ? (step.failure_reason ?? 'flow_failed') : null },
    };
  }
}
