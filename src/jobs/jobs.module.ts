import { Global, Module } from '@nestjs/common';
import { JobQueue } from './job-queue';

/** The background job queue (pg-boss), shared by every feature that enqueues or works jobs. */
@Global()
@Module({
  providers: [JobQueue],
  exports: [JobQueue],
})
export class JobsModule {}
