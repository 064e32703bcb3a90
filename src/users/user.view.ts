import { ApiProperty } from '@nestjs/swagger';

export class GoogleAccountView {
  @ApiProperty({ example: '108234567890123456789', description: "The Google account's stable id (`sub`)" })
  googleUserId: string;

  @ApiProperty({ example: 'ada@gmail.com' })
  email: string;

  @ApiProperty({ example: ['openid', 'email', 'https://www.googleapis.com/auth/calendar.events.readonly'], type: [String] })
  scopes: string[];

  @ApiProperty({ example: '2026-11-25T09:30:00.000Z' })
  linkedAt: string;

  @ApiProperty({ enum: ['active', 'needs_reauth'], example: 'active' })
  status: 'active' | 'needs_reauth';
}

export class UserView {
  @ApiProperty({ example: '6f1c2a7e-3b4d-4c5e-8f90-1a2b3c4d5e6f' })
  id: string;

  @ApiProperty({ example: 'ada@example.com' })
  email: string;

  @ApiProperty({ example: 'Ada Lovelace', nullable: true, type: String })
  name: string | null;

  @ApiProperty({ enum: ['user', 'admin'], example: 'user' })
  role: 'user' | 'admin';

  @ApiProperty({ type: GoogleAccountView, nullable: true })
  googleAccount: GoogleAccountView | null;
}

/** users/me: the user, and what Google's Cross-Account Protection told us, in words for the person. */
export class MeView extends UserView {
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'Google told us access to your Google account was withdrawn: reconnect your Google account',
    description:
      'What Google Cross-Account Protection last told us about this account, in plain words (never the event URI); null when there is nothing to say. ' +
      'Access withdrawn (tokens revoked, account disabled): shown until the Google account is reconnected. Password change required: shown as such.',
  })
  notice: string | null;
}
