import { ChoiceStepType } from './choice.step.js';
import { ConsentStepType } from './consent.step.js';
import { EndStepType } from './end.step.js';
import { MediaStepType } from './media.step.js';
import { MessageStepType } from './message.step.js';
import { QuestionStepType } from './question.step.js';

/** The engine's basic step types, provided (and so registered) by the conversations module. */
export const BASIC_STEP_TYPES = [MessageStepType, QuestionStepType, ChoiceStepType, MediaStepType, ConsentStepType, EndStepType];
