import { BASIC_STEP_TYPES } from '../../src/modules/conversations/steps/index.js';
import { RegisterStepType, type StepType, type StepTypeMeta } from '../../src/modules/flows/steps/step-type.js';
import type { StepTypesByName } from '../../src/modules/flows/flow-validation.js';

/** A step-type registry without Nest, for pure tests of flow validation: the basic types unless others are given. */
export function stepTypesByName(classes: Array<new () => StepType<never>> = BASIC_STEP_TYPES as never): StepTypesByName {
  return new Map(classes.map((cls) => [(Reflect.getMetadata(RegisterStepType.KEY, cls) as StepTypeMeta).type, { type: new cls() as unknown as StepType }]));
}
