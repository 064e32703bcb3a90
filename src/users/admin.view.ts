import { ApiProperty } from '@nestjs/swagger';
import { UserView } from './user.view';

export class UserPage {
  @ApiProperty({ type: [UserView] })
  items: UserView[];

  @ApiProperty({ type: String, nullable: true, example: 'WyIyMDI2LTExLTI1VDA5OjMwOjAwLjAwMFoiLCI2ZjFjIl0' })
  nextCursor: string | null;
}

export class AuditEventView {
  @ApiProperty({ example: '0b7c6d2e-1f3a-4b5c-9d8e-7f6a5b4c3d2e' })
  id: string;

  @ApiProperty({ example: 'google.unlinked' })
  action: string;

  @ApiProperty({ type: String, nullable: true, example: '6f1c2a7e-3b4d-4c5e-8f90-1a2b3c4d5e6f' })
  userId: string | null;

  @ApiProperty({ type: String, nullable: true, example: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' })
  actorId: string | null;

  @ApiProperty({ type: String, nullable: true, example: '108234567890123456789' })
  googleUserId: string | null;

  @ApiProperty({ example: '2026-11-25T09:30:00.000Z' })
  createdAt: string;
}

export class AuditEventPage {
  @ApiProperty({ type: [AuditEventView] })
  items: AuditEventView[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor: string | null;
}
