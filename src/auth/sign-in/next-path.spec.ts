import { safeNextPath } from './next-path';

describe('safeNextPath', () => {
  it.each([
    ['/users/me', '/users/me'],
    ['/settings?tab=google#top', '/settings?tab=google#top'],
    ['/a/../b', '/b'],
    ['/' + 'é'.repeat(85), '/' + '%C3%A9'.repeat(85)],
  ])('keeps the relative path %p', (next, expected) => {
    expect(safeNextPath(next)).toBe(expected);
  });

  it.each([
    '//evil.example',
    '//evil.example/users/me',
    'https://evil.example',
    'javascript:alert(1)',
    '/\\evil.example',
    '\\\\evil.example',
    '/%2F/evil.example',
    '/%2f%2fevil.example',
    '%2F%2Fevil.example',
    '/%5Cevil.example',
    '/%252F%252Fevil.example',
    '/\tevil',
    '/\r\nSet-Cookie: x=y',
    'users/me',
    '',
    '/%E0%A4%A',
    '/' + 'a'.repeat(600),
    // Short as typed, too long for its column once normalised (é is %C3%A9).
    '/' + 'é'.repeat(300),
    '/?' + 'é'.repeat(100),
  ])('refuses %p', (next) => {
    expect(safeNextPath(next)).toBeNull();
  });

  it.each([undefined, null, 42, ['/a'], { a: 1 }])('refuses the non-string %p', (next) => {
    expect(safeNextPath(next)).toBeNull();
  });
});
