import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { ErrorCodeValue } from '../errors/app-error.js';
import { ErrorResponseDto } from '../errors/error-response.dto.js';

/** Documents error responses with the codes an endpoint can return, e.g. `ApiErrors([409, 'NUMBER_TAKEN'])`. */
export function ApiErrors(...errors: Array<[number, ...ErrorCodeValue[]]>) {
  return applyDecorators(
    ...errors.map(([status, ...codes]) => ApiResponse({ status, type: ErrorResponseDto, description: `Error codes: ${codes.map((c) => '`' + c + '`').join(', ')}` })),
  );
}
