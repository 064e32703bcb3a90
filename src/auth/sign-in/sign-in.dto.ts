import { ApiProperty } from '@nestjs/swagger';
import { IsJWT, IsString, MaxLength } from 'class-validator';

export class TokenExchangeRequest {
  @ApiProperty({ description: 'A Google ID token obtained by a native (Android, iOS) or web client', example: 'eyJhbGciOiJSUzI1NiIsImtpZCI6...' })
  @IsString()
  @MaxLength(8192)
  @IsJWT({ message: 'idToken must be a JWT' })
  idToken: string;
}

export class SessionTokenResponse {
  @ApiProperty({ description: 'A session token: send it as "Authorization: Bearer <token>"', example: 'Qk3x8d0cW9…' })
  accessToken: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType: 'Bearer';

  @ApiProperty({ description: 'Seconds until the session expires', example: 86400 })
  expiresIn: number;
}
