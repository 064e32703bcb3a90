import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';

const strictBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50, example: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number from 1 to 100' })
  @Min(1, { message: 'limit must be a whole number from 1 to 100' })
  @Max(100, { message: 'limit must be a whole number from 1 to 100' })
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page (opaque)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class AdminUsersQuery extends PageQuery {
  @ApiPropertyOptional({ type: Boolean, description: 'Only users with (true) or without (false) a linked Google account' })
  @IsOptional()
  @Transform(strictBoolean)
  @IsBoolean({ message: 'linked must be true or false' })
  linked?: boolean;
}

export class AuditEventsQuery extends PageQuery {
  // No example: Swagger UI would pre-fill it, and a made-up id answers an empty page.
  @ApiPropertyOptional({ format: 'uuid', description: "Only this user's events (a user id from GET /api/v1/admin/users); leave empty for all" })
  @IsOptional()
  @IsUUID('all', { message: 'userId must be a UUID' })
  userId?: string;
}
