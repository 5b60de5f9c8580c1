import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLocalDays, addLocalMonths, fromLocal, localDate, localParts, periodAt, startOfLocalDay, type PeriodKind } from '../../src/platform/time';

/**
 * The program's calendar (check-in days, weekly and monthly boards and tasks, daily and monthly
 * caps) in zones with daylight saving time: PROGRAM_TIMEZONE accepts any IANA zone, and the day
 * around a transition is 23 or 25 hours long. Expected instants are written in UTC from the zone's
 * published rules for 2026:
 *   America/New_York  EST -05 → EDT -04 on Sun 8 Mar at 02:00;  EDT → EST on Sun 1 Nov at 02:00
 *   Europe/Berlin     CET +01 → CEST +02 on Sun 29 Mar at 02:00; CEST → CET on Sun 25 Oct at 03:00
 *   America/Santiago  -04 → -03 on Sun 6 Sep at 00:00 (that day starts at 01:00)
 *   Asia/Shanghai     +08 all year (the default zone; the other test files use it)
 * Every table runs under several process time zones: the answer depends on PROGRAM_TIMEZONE only.
 */

const HOUR = 3_600_000;
const at = (iso: string) => new Date(iso);

// [zone, an instant, its local day, when that day starts, when the next day starts, its length in hours]
const DAYS: [string, string, string, string, string, number][] = [
  ['America/New_York', '2026-03-08T12:00:00Z', '2026-03-08', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z', 23],
  ['America/New_York', '2026-03-09T03:59:59Z', '2026-03-08', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z', 23],
  ['America/New_York', '2026-03-09T04:00:00Z', '2026-03-09', '2026-03-09T04:00:00Z', '2026-03-10T04:00:00Z', 24],
  ['America/New_York', '2026-03-07T12:00:00Z', '2026-03-07', '2026-03-07T05:00:00Z', '2026-03-08T05:00:00Z', 24],
  ['America/New_York', '2026-11-01T04:00:00Z', '2026-11-01', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', 25],
  ['America/New_York', '2026-11-01T03:59:59Z', '2026-10-31', '2026-10-31T04:00:00Z', '2026-11-01T04:00:00Z', 24],
  // 01:30 happens twice on 1 Nov: both are the same day.
  ['America/New_York', '2026-11-01T05:30:00Z', '2026-11-01', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', 25],
  ['America/New_York', '2026-11-01T06:30:00Z', '2026-11-01', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', 25],
  ['America/New_York', '2026-11-02T04:59:59Z', '2026-11-01', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', 25],
  ['Europe/Berlin', '2026-03-29T01:30:00Z', '2026-03-29', '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z', 23],
  ['Europe/Berlin', '2026-03-28T22:59:59Z', '2026-03-28', '2026-03-27T23:00:00Z', '2026-03-28T23:00:00Z', 24],
  ['Europe/Berlin', '2026-03-29T22:00:00Z', '2026-03-30', '2026-03-29T22:00:00Z', '2026-03-30T22:00:00Z', 24],
  ['Europe/Berlin', '2026-10-25T00:30:00Z', '2026-10-25', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z', 25],
  ['Europe/Berlin', '2026-10-25T22:30:00Z', '2026-10-25', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z', 25],
  ['Europe/Berlin', '2026-10-24T21:59:59Z', '2026-10-24', '2026-10-23T22:00:00Z', '2026-10-24T22:00:00Z', 24],
  ['America/Santiago', '2026-09-06T12:00:00Z', '2026-09-06', '2026-09-06T04:00:00Z', '2026-09-07T03:00:00Z', 23],
  ['America/Santiago', '2026-09-06T03:59:59Z', '2026-09-05', '2026-09-05T04:00:00Z', '2026-09-06T04:00:00Z', 24],
  ['Asia/Shanghai', '2026-03-08T15:59:59Z', '2026-03-08', '2026-03-07T16:00:00Z', '2026-03-08T16:00:00Z', 24],
  ['Asia/Shanghai', '2026-03-08T16:00:00Z', '2026-03-09', '2026-03-08T16:00:00Z', '2026-03-09T16:00:00Z', 24],
];

// [zone, kind, an instant, key, start, end]
const PERIODS: [string, PeriodKind, string, string, string, string][] = [
  // The ISO week (Monday 00:00 local) holding the spring-forward Sunday is an hour short.
  ['America/New_York', 'WEEKLY', '2026-03-08T12:00:00Z', '2026-W10', '2026-03-02T05:00:00Z', '2026-03-09T04:00:00Z'],
  // Late Sunday evening in New York is Monday in UTC: still the local week.
  ['America/New_York', 'WEEKLY', '2026-03-09T03:30:00Z', '2026-W10', '2026-03-02T05:00:00Z', '2026-03-09T04:00:00Z'],
  ['America/New_York', 'WEEKLY', '2026-03-09T04:00:00Z', '2026-W11', '2026-03-09T04:00:00Z', '2026-03-16T04:00:00Z'],
  ['America/New_York', 'WEEKLY', '2026-11-01T06:30:00Z', '2026-W44', '2026-10-26T04:00:00Z', '2026-11-02T05:00:00Z'],
  ['America/New_York', 'WEEKLY', '2026-11-02T05:00:00Z', '2026-W45', '2026-11-02T05:00:00Z', '2026-11-09T05:00:00Z'],
  ['Europe/Berlin', 'WEEKLY', '2026-03-29T12:00:00Z', '2026-W13', '2026-03-22T23:00:00Z', '2026-03-29T22:00:00Z'],
  ['Europe/Berlin', 'WEEKLY', '2026-10-25T12:00:00Z', '2026-W43', '2026-10-18T22:00:00Z', '2026-10-25T23:00:00Z'],
  ['Europe/Berlin', 'WEEKLY', '2026-10-25T23:00:00Z', '2026-W44', '2026-10-25T23:00:00Z', '2026-11-01T23:00:00Z'],
  // The month starts in one offset and ends in the other.
  ['America/New_York', 'MONTHLY', '2026-03-15T12:00:00Z', '2026-03', '2026-03-01T05:00:00Z', '2026-04-01T04:00:00Z'],
  // 31 March 23:30 EDT is already April in UTC: still March locally.
  ['America/New_York', 'MONTHLY', '2026-04-01T03:30:00Z', '2026-03', '2026-03-01T05:00:00Z', '2026-04-01T04:00:00Z'],
  ['America/New_York', 'MONTHLY', '2026-04-01T04:00:00Z', '2026-04', '2026-04-01T04:00:00Z', '2026-05-01T04:00:00Z'],
  ['America/New_York', 'MONTHLY', '2026-11-01T05:30:00Z', '2026-11', '2026-11-01T04:00:00Z', '2026-12-01T05:00:00Z'],
  ['America/New_York', 'MONTHLY', '2026-12-31T23:00:00Z', '2026-12', '2026-12-01T05:00:00Z', '2027-01-01T05:00:00Z'],
  ['Europe/Berlin', 'MONTHLY', '2026-03-31T21:59:59Z', '2026-03', '2026-02-28T23:00:00Z', '2026-03-31T22:00:00Z'],
  ['Europe/Berlin', 'MONTHLY', '2026-10-31T22:30:00Z', '2026-10', '2026-09-30T22:00:00Z', '2026-10-31T23:00:00Z'],
  // The ISO week-numbering year: 1 January 2027 (a Friday) is in 2026's 53rd week.
  ['Asia/Shanghai', 'WEEKLY', '2026-12-31T16:30:00Z', '2026-W53', '2026-12-27T16:00:00Z', '2027-01-03T16:00:00Z'],
  ['Asia/Shanghai', 'MONTHLY', '2026-12-31T16:30:00Z', '2027-01', '2026-12-31T16:00:00Z', '2027-01-31T16:00:00Z'],
];

// [zone, local wall-clock time, the instant]
const WALL_CLOCK: [string, [number, number, number, number, number], string][] = [
  ['America/New_York', [2026, 3, 8, 1, 59], '2026-03-08T06:59:00Z'],
  // 02:30 does not happen on 8 March: read as 03:30 EDT, after the jump.
  ['America/New_York', [2026, 3, 8, 2, 30], '2026-03-08T07:30:00Z'],
  ['America/New_York', [2026, 3, 8, 3, 0], '2026-03-08T07:00:00Z'],
  // 01:30 happens twice on 1 November: the first (EDT).
  ['America/New_York', [2026, 11, 1, 1, 30], '2026-11-01T05:30:00Z'],
  ['America/New_York', [2026, 11, 1, 2, 0], '2026-11-01T07:00:00Z'],
  ['Europe/Berlin', [2026, 3, 29, 2, 30], '2026-03-29T01:30:00Z'],
  ['Europe/Berlin', [2026, 10, 25, 2, 30], '2026-10-25T00:30:00Z'],
  // Midnight does not happen on 6 September in Santiago: the day starts at 01:00.
  ['America/Santiago', [2026, 9, 6, 0, 0], '2026-09-06T04:00:00Z'],
  ['Asia/Shanghai', [2026, 3, 8, 0, 0], '2026-03-07T16:00:00Z'],
];

// [zone, an instant, months, the instant that many calendar months later]
const MONTHS: [string, string, number, string][] = [
  ['UTC', '2026-01-31T10:00:00Z', 1, '2026-02-28T10:00:00Z'], // the day clamped to the month's length
  ['UTC', '2028-01-31T10:00:00Z', 1, '2028-02-29T10:00:00Z'], // a leap year
  ['UTC', '2026-03-31T00:00:00Z', -1, '2026-02-28T00:00:00Z'],
  ['UTC', '2026-05-15T23:59:59Z', 12, '2027-05-15T23:59:59Z'], // a tier year
  ['UTC', '2026-12-31T12:00:00Z', -12, '2025-12-31T12:00:00Z'],
  // Across a transition the wall-clock time is kept, not the number of hours.
  ['America/New_York', '2026-02-15T17:00:00Z', 1, '2026-03-15T16:00:00Z'], // 12:00 EST → 12:00 EDT
  ['Europe/Berlin', '2026-10-10T10:00:00Z', 1, '2026-11-10T11:00:00Z'], // 12:00 CEST → 12:00 CET
];

for (const processZone of ['UTC', 'Asia/Shanghai', 'America/New_York']) {
  describe(`program calendar, process time zone ${processZone}`, () => {
    const saved = process.env.TZ;
    beforeAll(() => {
      process.env.TZ = processZone; // Node re-reads TZ when it is assigned
    });
    afterAll(() => {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    });

    it.each(DAYS)('%s: %s is on %s, which starts at %s and ends at %s (%d h)', (zone, instant, day, start, next, hours) => {
      expect(localDate(at(instant), zone)).toBe(day);
      expect(startOfLocalDay(at(instant), zone).toISOString()).toBe(at(start).toISOString());
      expect(addLocalDays(at(instant), 1, zone).toISOString()).toBe(at(next).toISOString());
      expect(addLocalDays(at(next), -1, zone).toISOString()).toBe(at(start).toISOString());
      expect((at(next).getTime() - at(start).getTime()) / HOUR).toBe(hours);
    });

    it.each(PERIODS)('%s %s at %s is %s, from %s to %s', (zone, kind, instant, key, start, end) => {
      const period = periodAt(kind, at(instant), zone);
      expect(period).toEqual({ kind, key, start: at(start), end: at(end) });
      // Periods tile the calendar: the instant before the end is in the same period, the end in the next.
      expect(periodAt(kind, new Date(at(end).getTime() - 1), zone).key).toBe(key);
      expect(periodAt(kind, at(end), zone).start).toEqual(at(end));
    });

    it.each(WALL_CLOCK)('%s: local %j happens at %s', (zone, [year, month, day, hour, minute], instant) => {
      expect(fromLocal(year, month, day, zone, hour, minute).toISOString()).toBe(at(instant).toISOString());
    });

    it.each(MONTHS)('%s: %s plus %d months is %s', (zone, instant, months, later) => {
      expect(addLocalMonths(at(instant), months, zone).toISOString()).toBe(at(later).toISOString());
    });

    it('moving a week of local days across a transition keeps local midnight (not 7 × 24 h)', () => {
      const monday = at('2026-10-19T04:00:00Z'); // Monday 19 Oct, 00:00 EDT
      const days = Array.from({ length: 15 }, (_, i) => addLocalDays(monday, i, 'America/New_York'));
      for (const day of days) expect(localParts(day, 'America/New_York')).toMatchObject({ hour: 0, minute: 0 });
      expect(days.map((d) => localDate(d, 'America/New_York'))).toEqual(Array.from({ length: 15 }, (_, i) => `2026-${i < 13 ? '10' : '11'}-${String(i < 13 ? 19 + i : i - 12).padStart(2, '0')}`));
    });
  });
}
