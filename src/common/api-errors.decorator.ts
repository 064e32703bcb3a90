import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from './domain-error';

export class ErrorResponse {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ enum: Object.keys(ERROR_STATUS), example: 'invalid_request' })
  code: string;

  @ApiProperty({ example: 'limit must not be greater than 100' })
  message: string;
}

const DEFAULT_CODES: Record<number, ErrorCode[]> = {
  400: ['invalid_request'],
  401: ['unauthenticated'],
  403: ['forbidden'],
  404: ['not_found'],
};

/** Documents a route's error responses: a status, or explicit codes (grouped by their status). */
export function ApiErrors(...errors: Array<number | ErrorCode>) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const error of errors) {
    const status = typeof error === 'number' ? error : ERROR_STATUS[error];
    const codes = typeof error === 'number' ? (DEFAULT_CODES[error] ?? []) : [error];
    byStatus.set(status, [...(byStatus.get(status) ?? []), ...codes]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, codes]) =>
      ApiResponse({ status, type: ErrorResponse, description: codes.length ? `code: ${codes.join(' | ')}` : undefined }),
    ),
  );
}
