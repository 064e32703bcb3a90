import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { OAuthStateStore } from './google-oauth/oauth-state.store';
import { PURGE_INTERVAL_MS, PurgeScheduler } from './purge.scheduler';
import { SessionsService } from './sessions/sessions.service';

describe('PurgeScheduler', () => {
  let sessionsPurge: jest.Mock<() => Promise<number>>;
  let statesPurge: jest.Mock<() => Promise<number>>;
  let revokedPurge: jest.Mock<() => Promise<number>>;
  let scheduler: PurgeScheduler;

  beforeEach(async () => {
    jest.useFakeTimers();
    sessionsPurge = jest.fn(async () => 3);
    statesPurge = jest.fn(async () => 5);
    revokedPurge = jest.fn(async () => 2);
    const moduleRef = await Test.createTestingModule({
      providers: [
        PurgeScheduler,
        { provide: SessionsService, useValue: { purgeExpired: sessionsPurge, purgeExpiredRevocations: revokedPurge } },
        { provide: OAuthStateStore, useValue: { purgeExpired: statesPurge } },
      ],
    }).compile();
    scheduler = moduleRef.get(PurgeScheduler);
  });
  afterEach(async () => {
    await scheduler.onModuleDestroy();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('purges expired sessions, revoked sessions and OAuth states on every tick, logging the counts at debug level', async () => {
    const debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    scheduler.onApplicationBootstrap();

    await jest.advanceTimersByTimeAsync(PURGE_INTERVAL_MS * 2);

    expect(sessionsPurge).toHaveBeenCalledTimes(2);
    expect(statesPurge).toHaveBeenCalledTimes(2);
    expect(debug).toHaveBeenCalledWith('Purged 3 expired sessions');
    expect(debug).toHaveBeenCalledWith('Purged 5 expired OAuth states');
    expect(revokedPurge).toHaveBeenCalledTimes(2);
    expect(debug).toHaveBeenCalledWith('Purged 2 expired revoked sessions');
  });

  it('survives a database that is down: warns, still runs the other purges, and tries again next tick', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    sessionsPurge.mockRejectedValueOnce(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    scheduler.onApplicationBootstrap();

    await jest.advanceTimersByTimeAsync(PURGE_INTERVAL_MS);
    await jest.advanceTimersByTimeAsync(PURGE_INTERVAL_MS);

    expect(warn).toHaveBeenCalledWith(expect.stringContaining('ECONNREFUSED'));
    expect(statesPurge).toHaveBeenCalledTimes(2);
    expect(sessionsPurge).toHaveBeenCalledTimes(2);
  });

  it('does not start a purge while one is still running', async () => {
    let finish!: (count: number) => void;
    sessionsPurge.mockImplementationOnce(() => new Promise<number>((resolve) => (finish = resolve)));

    const first = scheduler.purgeExpired();
    const second = scheduler.purgeExpired();
    finish(0);
    await Promise.all([first, second]);

    expect(sessionsPurge).toHaveBeenCalledTimes(1);
  });

  it('stops with the application, waiting for a purge in progress', async () => {
    let finish!: (count: number) => void;
    sessionsPurge.mockImplementationOnce(() => new Promise<number>((resolve) => (finish = resolve)));
    scheduler.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(PURGE_INTERVAL_MS);

    let stopped = false;
    const stopping = scheduler.onModuleDestroy().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    finish(0);
    await stopping;
    await jest.advanceTimersByTimeAsync(PURGE_INTERVAL_MS * 3);

    expect(stopped).toBe(true);
    expect(sessionsPurge).toHaveBeenCalledTimes(1);
  });
});
