import { Module } from '@nestjs/common';
import { GoogleModule } from '../google/google.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { UsersModule } from '../users/users.module';
import { OutOfOfficeController } from './out-of-office.controller';
import { OutOfOfficeService } from './out-of-office.service';

/** Uses the link: out-of-office events from the linked account's primary calendar. */
@Module({
  imports: [UsersModule, GoogleModule, RateLimitModule],
  controllers: [OutOfOfficeController],
  providers: [OutOfOfficeService],
})
export class CalendarModule {}
