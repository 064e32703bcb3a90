import { DomainError } from '../common/domain-error';
import { decodeCursor, encodeCursor } from './pagination';

describe('cursors', () => {
  it('round-trip a position', () => {
    const position = { createdAt: new Date('2026-11-25T10:00:00.123Z'), id: '6f1c2a7e-3b4d-4c5e-8f90-1a2b3c4d5e6f' };

    expect(decodeCursor(encodeCursor(position))).toEqual({ createdAt: position.createdAt.toISOString(), id: position.id });
  });

  it.each([
    '',
    'abc',
    '%%%',
    Buffer.from('[1,2]').toString('base64url'),
    Buffer.from('["x","y"]').toString('base64url'),
    Buffer.from('{"a":1}').toString('base64url'),
    // Date.parse takes these; PostgreSQL does not.
    ...['1', '2020', '+275760-09-13', '0000-01-01T00:00:00.000Z', '2020-02-30T00:00:00.000Z', '-000001-01-01T00:00:00.000Z'].map((createdAt) =>
      Buffer.from(JSON.stringify([createdAt, '6f1c2a7e-3b4d-4c5e-8f90-1a2b3c4d5e6f'])).toString('base64url'),
    ),
  ])('refuses %p with invalid_request', (cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(DomainError);
    try {
      decodeCursor(cursor);
    } catch (error) {
      expect((error as DomainError).code).toBe('invalid_request');
    }
  });
});
