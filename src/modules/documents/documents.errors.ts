import { HttpStatus } from '@nestjs/common';
import { AppError, declareErrorCodes, ErrorCode, type CodesOf } from '../../common/errors/app-error.js';

export const DocumentErrorCode = declareErrorCodes({
  /** The file is not a PDF that can be read, or it has no pages. */
  INVALID_PDF: 'INVALID_PDF',
  /** The PDF is encrypted (with or without a password to open it): it could not be signed or shown as it is. */
  PDF_ENCRYPTED: 'PDF_ENCRYPTED',
  /** No document with this id among the tenant's. */
  DOCUMENT_NOT_FOUND: 'DOCUMENT_NOT_FOUND',
});

declare module '../../common/errors/app-error.js' {
  interface DeclaredErrorCodes extends CodesOf<typeof DocumentErrorCode> {}
}

const onField = (field: string, message: string) => [{ field, messages: [message] }];

export const invalidPdf = (field: string, why: string) =>
  new AppError(HttpStatus.BAD_REQUEST, DocumentErrorCode.INVALID_PDF, `${field} is not a valid PDF: ${why}`, onField(field, `${field} is not a valid PDF: ${why}`));

export const pdfEncrypted = (field: string) => {
  const message = `${field} is an encrypted PDF: upload it without encryption (no password and no owner restrictions)`;
  return new AppError(HttpStatus.BAD_REQUEST, DocumentErrorCode.PDF_ENCRYPTED, message, onField(field, message));
};

export const documentNotFound = (id: string, field?: string) =>
  new AppError(HttpStatus.NOT_FOUND, DocumentErrorCode.DOCUMENT_NOT_FOUND, `Document ${id} not found`, field ? onField(field, `Document ${id} not found`) : undefined);

export const documentTooLarge = (field: string, maxBytes: number) => {
  const message = `${field} is larger than ${maxBytes / 1_048_576} MB`;
  return new AppError(HttpStatus.PAYLOAD_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE, message, onField(field, message));
};

export const unsupportedUpload = (field: string, given: string | undefined) => {
  const message = `Content-Type ${given || '(none)'} is not supported here: send multipart/form-data with the PDF in ${field}, or the PDF itself as application/pdf`;
  return new AppError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, ErrorCode.UNSUPPORTED_MEDIA_TYPE, message, onField(field, message));
};
