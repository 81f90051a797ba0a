import { HttpStatus } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error.js';

export const FileErrorCode = {
  /** The file is known but its bytes are not kept (yet): a download still pending, or one that failed. */
  FILE_NOT_STORED: 'FILE_NOT_STORED',
} as const;

export const fileNotStored = (id: string, status: string) =>
  new AppError(HttpStatus.CONFLICT, FileErrorCode.FILE_NOT_STORED, `File ${id} is ${status}: its content is not stored`, { status });
