import { HttpStatus } from '@nestjs/common';
import { AppError, declareErrorCodes, type CodesOf } from '../../common/errors/app-error.js';

export const FileErrorCode = declareErrorCodes({
  /** The file is known but its bytes are not kept (yet): a download still pending, or one that failed. */
  FILE_NOT_STORED: 'FILE_NOT_STORED',
});

declare module '../../common/errors/app-error.js' {
  interface DeclaredErrorCodes extends CodesOf<typeof FileErrorCode> {}
}

export const fileNotStored = (id: string, status: string) =>
  new AppError(HttpStatus.CONFLICT, FileErrorCode.FILE_NOT_STORED, `File ${id} is ${status}: its content is not stored`, { status });
