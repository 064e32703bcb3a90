import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';

export class OutOfOfficeQuery {
  @ApiPropertyOptional({ description: 'Start of the window (ISO 8601); default now', example: '2026-12-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date or date-time' })
  from?: string;

  @ApiPropertyOptional({ description: 'End of the window (ISO 8601); default from + 30 days, at most from + 90 days', example: '2026-12-31T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date or date-time' })
  to?: string;
}

export class OutOfOfficeEventView {
  @ApiProperty({ example: '7lq2n0b3f4k5h6j7' })
  id: string;

  @ApiProperty({ example: 'Out of office' })
  summary: string;

  @ApiProperty({ description: 'YYYY-MM-DD for all-day events, else an ISO 8601 date-time', example: '2026-12-03T13:00:00+01:00' })
  start: string;

  @ApiProperty({ description: 'Exclusive end: YYYY-MM-DD for all-day events, else an ISO 8601 date-time', example: '2026-12-03T18:00:00+01:00' })
  end: string;

  @ApiProperty({ example: false })
  allDay: boolean;
}

export class OutOfOfficeResponse {
  @ApiProperty({ type: [OutOfOfficeEventView] })
  events: OutOfOfficeEventView[];
}
