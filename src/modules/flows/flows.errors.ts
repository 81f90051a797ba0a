import { HttpStatus } from '@nestjs/common';
import { AppError, declareErrorCodes, ErrorCode, type CodesOf, type FieldError } from '../../common/errors/app-error.js';

export const FlowErrorCode = declareErrorCodes({
  /** The flow is archived: it cannot be started or changed. */
  FLOW_ARCHIVED: 'FLOW_ARCHIVED',
});

declare module '../../common/errors/app-error.js' {
  interface DeclaredErrorCodes extends CodesOf<typeof FlowErrorCode> {}
}

export const flowArchived = (id: string) => new AppError(HttpStatus.CONFLICT, FlowErrorCode.FLOW_ARCHIVED, `Flow ${id} is archived: it cannot be started or changed`);

/** A flow whose steps break the rules; `details` names each step and field. */
export const invalidFlow = (details: FieldError[]) =>
  new AppError(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, `Invalid flow: ${details.map((d) => d.field).join(', ')}`, details);
