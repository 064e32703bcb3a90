import { ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError } from './domain-error';

function firstProblem(errors: ValidationError[], path = ''): string {
  const error = errors[0];
  const field = path ? `${path}.${error.property}` : error.property;
  if (error.constraints) {
    const [key, text] = Object.entries(error.constraints)[0];
    return key === 'whitelistValidation' ? `${field} is not an accepted field` : text.replace(error.property, field);
  }
  return error.children?.length ? firstProblem(error.children, field) : `${field} is invalid`;
}

/** Whitelisting, no unknown fields, and a 400 `invalid_request` naming the first bad field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => new DomainError('invalid_request', errors.length ? firstProblem(errors) : 'The request is not valid'),
  });
}
