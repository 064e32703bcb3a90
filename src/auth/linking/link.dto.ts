import { ApiProperty } from '@nestjs/swagger';

export class AuthorizationUrlResponse {
  @ApiProperty({
    description: 'Google consent URL: navigate the browser there',
    example:
      'https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=…&access_type=offline&prompt=consent&code_challenge_method=S256&state=…',
  })
  url: string;
}
