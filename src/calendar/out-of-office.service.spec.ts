import { DomainError } from '../common/domain-error';
import { outOfOfficeWindow, toView } from './out-of-office.service';

const NOW = new Date('2026-11-25T10:00:00Z');
const DAY = 86_400_000;

describe('outOfOfficeWindow', () => {
  it('defaults to now … now + 30 days', () => {
    expect(outOfOfficeWindow(undefined, undefined, NOW)).toEqual({ from: NOW, to: new Date(NOW.getTime() + 30 * DAY) });
  });

  it('with only from, ends 30 days after it; with only to, starts now', () => {
    expect(outOfOfficeWindow('2026-12-01T00:00:00Z', undefined, NOW).to).toEqual(new Date('2026-12-31T00:00:00Z'));
    expect(outOfOfficeWindow(undefined, '2026-12-01T00:00:00Z', NOW).from).toEqual(NOW);
  });

  it('accepts exactly 90 days and refuses more', () => {
    expect(() => outOfOfficeWindow('2026-12-01T00:00:00Z', '2027-03-01T00:00:00Z', NOW)).not.toThrow();
    expect(() => outOfOfficeWindow('2026-12-01T00:00:00Z', '2027-03-01T00:00:01Z', NOW)).toThrow(/90 days/);
  });

  it.each([
    ['2026-12-02T00:00:00Z', '2026-12-01T00:00:00Z'],
    ['2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'],
  ])('refuses to (%s) not after from (%s)', (from, to) => {
    expect(() => outOfOfficeWindow(from, to, NOW)).toThrow(DomainError);
  });
});

it.each([
  ['9999-12-31', undefined],
  ['+275760-09-13', undefined],
  ['1800-01-01', '1800-01-02'],
])('refuses an extreme date (from %s) with invalid_request', (from, to) => {
  expect(() => outOfOfficeWindow(from, to, NOW)).toThrow(/between 1900 and 9000/);
});

describe('toView', () => {
  it('keeps all-day dates as Google gives them, end exclusive', () => {
    const view = toView({ id: 'a', summary: 'Holiday', start: { date: '2026-12-24' }, end: { date: '2026-12-27' } });

    expect(view).toEqual({ id: 'a', summary: 'Holiday', start: '2026-12-24', end: '2026-12-27', allDay: true });
  });

  it('keeps timed events as ISO date-times', () => {
    const view = toView({ id: 'b', start: { dateTime: '2026-12-03T13:00:00+01:00' }, end: { dateTime: '2026-12-03T18:00:00+01:00' } });

    expect(view).toEqual({ id: 'b', summary: 'Out of office', start: '2026-12-03T13:00:00+01:00', end: '2026-12-03T18:00:00+01:00', allDay: false });
  });

  it('drops an event Google sent without times', () => {
    expect(toView({ id: 'c', start: {}, end: {} })).toBeNull();
  });
});
