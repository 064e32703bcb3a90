import { depthOf } from './body-depth';

describe('depthOf', () => {
  it.each([
    [null, 0],
    ['text', 0],
    [{}, 1],
    [{ idToken: 'x' }, 1],
    [[[1]], 2],
    [{ a: [{ b: 1 }] }, 3],
  ])('measures %p as %p levels', (value, depth) => {
    expect(depthOf(value, 100)).toBe(depth);
  });

  it('measures 100,000 levels without overflowing its own stack, stopping once over the limit', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);

    expect(depthOf(deep, 32)).toBe(33);
  });
});
