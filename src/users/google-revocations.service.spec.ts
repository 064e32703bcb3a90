import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { getRepositoryToken } from '@nestjs/typeorm';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import { GoogleOAuthClient } from '../google/google-oauth.client';
import { JobQueue } from '../jobs/job-queue';
import { GoogleRevocation } from './google-revocation.entity';
import { GoogleRevocationsService } from './google-revocations.service';

describe('GoogleRevocationsService.attempt', () => {
  it('answers false, and logs without the error message, when the database fails after the commit', async () => {
    const revoke = jest.fn(async () => undefined);
    const moduleRef = await Test.createTestingModule({
      providers: [
        GoogleRevocationsService,
        {
          provide: getRepositoryToken(GoogleRevocation),
          useValue: { findOneBy: jest.fn(async () => Promise.reject(Object.assign(new Error('value "secret-row"'), { code: '57P01' }))) },
        },
        { provide: GoogleOAuthClient, useValue: { revoke } },
        { provide: JobQueue, useValue: { every: jest.fn() } },
        { provide: AppConfig, useValue: { revocationRetrySeconds: 30 } },
      ],
    }).compile();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    const done = await moduleRef.get(GoogleRevocationsService).attempt('6f1c2a7e-3b4d-4c5e-8f90-1a2b3c4d5e6f');

    expect(done).toBe(false);
    expect(revoke).not.toHaveBeenCalled();
    expect(JSON.stringify(warn.mock.calls)).toContain('57P01');
    expect(JSON.stringify(warn.mock.calls)).not.toContain('secret-row');
    warn.mockRestore();
  });
});
