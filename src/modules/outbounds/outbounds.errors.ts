import { HttpStatus } from '@nestjs/common';
import { AppError, declareErrorCodes, ErrorCode, type CodesOf, type FieldError } from '../../common/errors/app-error.js';
import type { TemplateStatus } from '../../whatsapp/whatsapp.types.js';

export const OutboundErrorCode = declareErrorCodes({
  OUTBOUND_NOT_APPROVED: 'OUTBOUND_NOT_APPROVED',
  OPT_IN_REQUIRED: 'OPT_IN_REQUIRED',
  OPTED_OUT: 'OPTED_OUT',
  /** A concurrent request with the same Idempotency-Key finished first (the caller retries and gets its answer). */
  IDEMPOTENCY_CONFLICT: 'IDEMPOTENCY_CONFLICT',
  /** document_id names no document of the tenant's. */
  UNKNOWN_DOCUMENT: 'UNKNOWN_DOCUMENT',
  /** The flow's `document` step has no fixed document and the send gave none. */
  DOCUMENT_REQUIRED: 'DOCUMENT_REQUIRED',
});

declare module '../../common/errors/app-error.js' {
  interface DeclaredErrorCodes extends CodesOf<typeof OutboundErrorCode> {}
}

export const notApproved = (id: string, status: TemplateStatus) =>
  new AppError(HttpStatus.CONFLICT, OutboundErrorCode.OUTBOUND_NOT_APPROVED, `Outbound ${id} is ${status}: only APPROVED outbounds can be sent`, { status });

export const optInRequired = () => new AppError(HttpStatus.FORBIDDEN, OutboundErrorCode.OPT_IN_REQUIRED, 'user_authorized must be true: the user must have given their opt-in');

export const optedOut = (phone: string, since: Date) =>
  new AppError(HttpStatus.CONFLICT, OutboundErrorCode.OPTED_OUT, `${phone} opted out of messages; a newer opt-in is needed`, {
    phone,
    opted_out_at: since.toISOString(),
  });

export const unknownDocument = (id: string) =>
  new AppError(HttpStatus.BAD_REQUEST, OutboundErrorCode.UNKNOWN_DOCUMENT, `document_id ${id} is not one of your documents`, [
    { field: 'document_id', messages: [`document_id ${id} is not one of your documents (POST /v1/documents)`] },
  ]);

export const documentRequired = (stepId: string) =>
  new AppError(HttpStatus.BAD_REQUEST, OutboundErrorCode.DOCUMENT_REQUIRED, `The flow's document step ${stepId} has no document_id: the send must give one`, [
    { field: 'document_id', messages: [`document_id is required: the flow's document step '${stepId}' sends the document of the invitation`] },
  ]);

export const idempotencyKeyReused = () =>
  new AppError(HttpStatus.UNPROCESSABLE_ENTITY, ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was already used with a different request body');

/** Collects field problems so one 400 names every bad field. */
export class FieldErrors {
  private readonly list: FieldError[] = [];

  add(field: string, message: string): void {
    const existing = this.list.find((e) => e.field === field);
    if (existing) existing.messages.push(message);
    else this.list.push({ field, messages: [message] });
  }

  throwIfAny(): void {
    if (this.list.length === 0) return;
    throw new AppError(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, `Validation failed: ${this.list.map((e) => e.field).join(', ')}`, this.list);
  }
}
