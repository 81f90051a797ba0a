import type { FlowStep, StepType } from '../../flows/flow-definition.js';
import { ChoiceStepHandler, ConsentStepHandler, EndStepHandler, MediaStepHandler, MessageStepHandler, QuestionStepHandler } from './basic.handlers.js';
import type { StepHandler } from './step-handler.js';

/** Every step type's handler: the one place a new step type is registered. */
export const STEP_HANDLERS: { [K in StepType]: StepHandler<Extract<FlowStep, { type: K }>> } = {
  message: new MessageStepHandler(),
  question: new QuestionStepHandler(),
  choice: new ChoiceStepHandler(),
  media: new MediaStepHandler(),
  consent: new ConsentStepHandler(),
  end: new EndStepHandler(),
};

export function handlerFor<S extends FlowStep>(step: S): StepHandler<S> {
  return STEP_HANDLERS[step.type] as unknown as StepHandler<S>;
}
