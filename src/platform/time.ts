/**
 * Calendar arithmetic in the program's time zone (contract: days, weeks and months are local).
 *
 * PROGRAM_TIMEZONE accepts any IANA zone, and zones with daylight saving time have days of 23 and
 * 25 hours, wall-clock times that happen twice or never, and (some zones) days that do not start
 * at 00:00. The zone rules come from @date-fns/tz (tzOffset and TZDate: maintained, read the IANA
 * database through Intl) and ISO weeks from date-fns, instead of hand-written offset arithmetic.
 * A local calendar date is named by (year, month, day); fromLocal finds when it starts.
 * test/platform/time.test.ts walks both DST transitions of America/New_York and Europe/Berlin,
 * and a zone that skips midnight, under several process time zones.
 *
 * Everything here returns plain Dates (instants): a TZDate would print its zone's offset in
 * toISOString(), which reaches keys, SQL parameters and the API.
 */
import { tz, TZDate, tzOffset } from '@date-fns/tz';
import { addMonths, getISOWeek, getISOWeekYear } from 'date-fns';

/** 24 hours: for durations (expiry windows, ages), never for calendar days (addLocalDays). */
export const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** ISO weekday, Monday = 1 … Sunday = 7. */
  weekday: number;
}

export function localParts(at: Date, timeZone: string): LocalParts {
  const local = new TZDate(at.getTime(), timeZone);
  return {
    year: local.getFullYear(),
    month: local.getMonth() + 1,
    day: local.getDate(),
    hour: local.getHours(),
    minute: local.getMinutes(),
    second: local.getSeconds(),
    weekday: local.getDay() || 7,
  };
}

export const isoWeekday = (at: Date, timeZone: string): number => localParts(at, timeZone).weekday;

/** YYYY-MM-DD of the local calendar day. */
export function localDate(at: Date, timeZone: string): string {
  const p = localParts(at, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/**
 * The instant a local wall-clock time happens. Day, month and hour overflow as in `Date.UTC`
 * (day 0 is the last day of the month before). A time the clocks skip (spring forward) is read as
 * the same time after the jump (02:30 → 03:30; a skipped midnight → 01:00, when that day starts);
 * a time that happens twice (fall back), as the first of the two.
 *
 * The zone's offsets come from the library (tzOffset); which one applies is decided here, not by
 * TZDate's constructor, whose answer for a doubled hour depends on the process's own zone.
 */
export function fromLocal(year: number, month: number, day: number, timeZone: string, hour = 0, minute = 0): Date {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // The offsets in force a day either side: the two candidates if the zone changes offset that
  // day (IANA zones never change twice within two days), the same one twice otherwise.
  const before = tzOffset(timeZone, new Date(wall - DAY_MS));
  const after = tzOffset(timeZone, new Date(wall + DAY_MS));
  const valid = [before, after].map((offset) => wall - offset * MINUTE_MS).filter((instant) => wall - tzOffset(timeZone, new Date(instant)) * MINUTE_MS === instant);
  // None: the clocks skipped this time; read it with the offset before the jump, which lands the
  // same distance past the jump (NY 02:30 EST is 03:30 EDT).
  return new Date(valid.length > 0 ? Math.min(...valid) : wall - before * MINUTE_MS);
}

/** The first instant of the local day of `at` (00:00, or later in a zone whose clocks skip midnight). */
export function startOfLocalDay(at: Date, timeZone: string): Date {
  const p = localParts(at, timeZone);
  return fromLocal(p.year, p.month, p.day, timeZone);
}

/** The start of the local day `days` calendar days after the day of `at` (not `days` × 24 h). */
export function addLocalDays(at: Date, days: number, timeZone: string): Date {
  const p = localParts(at, timeZone);
  return fromLocal(p.year, p.month, p.day + days, timeZone);
}

export const addDays = (at: Date, days: number): Date => new Date(at.getTime() + days * DAY_MS);

/** date-fns's "compute in this zone" context, one per zone (the program uses one or two). */
const zoneContexts = new Map<string, ReturnType<typeof tz>>();
function inZone(timeZone: string) {
  let context = zoneContexts.get(timeZone);
  if (!context) zoneContexts.set(timeZone, (context = tz(timeZone)));
  return { in: context };
}

/**
 * `months` calendar months after `at` in `timeZone`, at the same wall-clock time, the day clamped
 * to the target month's length (31 January + 1 month = 28 or 29 February).
 */
export function addLocalMonths(at: Date, months: number, timeZone: string): Date {
  return new Date(addMonths(at, months, inZone(timeZone)).getTime());
}

export type PeriodKind = 'ALL_TIME' | 'MONTHLY' | 'WEEKLY';

export interface Period {
  kind: PeriodKind;
  /** ALL_TIME, 2026-03 or 2026-W10: names the period in keys and snapshots. */
  key: string;
  start: Date | null;
  end: Date | null;
}

/** The period containing an instant; months and ISO weeks (Monday 00:00) start in local time. */
export function periodAt(kind: PeriodKind, at: Date, timeZone: string): Period {
  if (kind === 'ALL_TIME') return { kind, key: 'ALL_TIME', start: null, end: null };
  const p = localParts(at, timeZone);
  if (kind === 'MONTHLY') {
    const start = fromLocal(p.year, p.month, 1, timeZone);
    const end = fromLocal(p.year, p.month + 1, 1, timeZone); // month 13 is January of the next year
    return { kind, key: `${p.year}-${String(p.month).padStart(2, '0')}`, start, end };
  }
  const start = fromLocal(p.year, p.month, p.day + 1 - p.weekday, timeZone);
  const end = fromLocal(p.year, p.month, p.day + 8 - p.weekday, timeZone);
  const week = isoWeekOf(p.year, p.month, p.day);
  return { kind, key: `${week.year}-W${String(week.week).padStart(2, '0')}`, start, end };
}

/**
 * ISO-8601 week-numbering year and week of a local calendar date (the Thursday of its week decides
 * the year: 2027-01-01 is in 2026-W53). A calendar date has no zone, so date-fns reads it as a
 * plain Date in the process's zone (a TZDate here would cost ~50× more on every earning).
 */
export function isoWeekOf(year: number, month: number, day: number): { year: number; week: number } {
  const date = new Date(year, month - 1, day);
  return { year: getISOWeekYear(date), week: getISOWeek(date) };
}
