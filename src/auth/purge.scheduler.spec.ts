import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { JobQueue } from '../jobs/job-queue';
import { OAuthStateStore } from './google-oauth/oauth-state.store';
import { PURGE_INTERVAL_SECONDS, PURGE_QUEUE, PurgeScheduler } from './purge.scheduler';
import { SessionsService } from './sessions/sessions.service';

describe('PurgeScheduler', () => {
  let sessionsPurge: jest.Mock<() => Promise<number>>;
  let statesPurge: jest.Mock<() => Promise<number>>;
  let revokedPurge: jest.Mock<() => Promise<number>>;
  let every: jest.Mock<(name: string, seconds: number, handler: () => Promise<unknown>) => Promise<void>>;
  let scheduler: PurgeScheduler;
  /** The run pg-boss would start: the handler the scheduler registered. */
  const run = () => every.mock.calls[0][2]();

  beforeEach(async () => {
    sessionsPurge = jest.fn(async () => 3);
    statesPurge = jest.fn(async () => 5);
    revokedPurge = jest.fn(async () => 2);
    every = jest.fn(async () => undefined);
    const moduleRef = await Test.createTestingModule({
      providers: [
        PurgeScheduler,
        { provide: SessionsService, useValue: { purgeExpired: sessionsPurge, purgeExpiredRevocations: revokedPurge } },
        { provide: OAuthStateStore, useValue: { purgeExpired: statesPurge } },
        { provide: JobQueue, useValue: { every } },
      ],
    }).compile();
    scheduler = moduleRef.get(PurgeScheduler);
    await scheduler.onApplicationBootstrap();
  });
  afterEach(() => jest.restoreAllMocks());

  it('registers one recurring job, every five minutes', () => {
    expect(every).toHaveBeenCalledTimes(1);
    expect(every).toHaveBeenCalledWith(PURGE_QUEUE, PURGE_INTERVAL_SECONDS, expect.any(Function));
  });

  it('purges expired sessions, revoked sessions and OAuth states on every run, logging the counts at debug level', async () => {
    const debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);

    await run();
    await run();

    expect(sessionsPurge).toHaveBeenCalledTimes(2);
    expect(statesPurge).toHaveBeenCalledTimes(2);
    expect(debug).toHaveBeenCalledWith('Purged 3 expired sessions');
    expect(debug).toHaveBeenCalledWith('Purged 5 expired OAuth states');
    expect(revokedPurge).toHaveBeenCalledTimes(2);
    expect(debug).toHaveBeenCalledWith('Purged 2 expired revoked sessions');
  });

  it('survives a database that is down: warns, still runs the other purges, and tries again next run', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    sessionsPurge.mockRejectedValueOnce(new Error('connect ECONNREFUSED 127.0.0.1:5432'));

    await expect(run()).resolves.toBeUndefined();
    await run();

    expect(warn).toHaveBeenCalledWith(expect.stringContaining('ECONNREFUSED'));
    expect(statesPurge).toHaveBeenCalledTimes(2);
    expect(sessionsPurge).toHaveBeenCalledTimes(2);
  });
});
