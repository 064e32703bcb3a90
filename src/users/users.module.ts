import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEvent } from './audit-event.entity';
import { AuditService } from './audit.service';
import { UserProfilesService } from './user-profiles.service';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([User, AuditEvent])],
  controllers: [UsersController],
  providers: [UsersService, AuditService, UserProfilesService],
  exports: [UsersService, AuditService, UserProfilesService],
})
export class UsersModule {}
