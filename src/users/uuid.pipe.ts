import { ParseUUIDPipe } from '@nestjs/common';
import { DomainError } from '../common/domain-error';

/** A path id that is not a UUID is a 400 naming the parameter, not a database error. */
export const uuidParam = (name: string) => new ParseUUIDPipe({ exceptionFactory: () => new DomainError('invalid_request', `${name} must be a UUID`) });
