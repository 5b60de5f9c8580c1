/** Calendar arithmetic in the program's time zone (contract: days and weeks are local). */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

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
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(at)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday],
  };
}

export const isoWeekday = (at: Date, timeZone: string): number => localParts(at, timeZone).weekday;

/** YYYY-MM-DD of the local calendar day. */
export function localDate(at: Date, timeZone: string): string {
  const p = localParts(at, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** Offset of local time from UTC at an instant, in ms. */
function offsetAt(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant a local wall-clock time happens (for zones with DST, the first such instant). */
export function fromLocal(year: number, month: number, day: number, timeZone: string, hour = 0, minute = 0): Date {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const first = guess - offsetAt(new Date(guess), timeZone);
  return new Date(guess - offsetAt(new Date(first), timeZone));
}

export function startOfLocalDay(at: Date, timeZone: string): Date {
  const p = localParts(at, timeZone);
  return fromLocal(p.year, p.month, p.day, timeZone);
}

/** Local midnight `days` calendar days after the day of `at`. */
export function addLocalDays(at: Date, days: number, timeZone: string): Date {
  const p = localParts(at, timeZone);
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + days));
  return fromLocal(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), timeZone);
}

export const DAY_MS = 86_400_000;

export const addDays = (at: Date, days: number): Date => new Date(at.getTime() + days * DAY_MS);

export type PeriodKind = 'ALL_TIME' | 'MONTHLY' | 'WEEKLY';

export interface Period {
  kind: PeriodKind;
  /** ALL_TIME, 2026-03 or 2026-W10: names the period in keys and snapshots. */
  key: string;
  start: Date | null;
  end: Date | null;
}

/** ISO-8601 week-numbering year and week of a local calendar date. */
export function isoWeekOf(year: number, month: number, day: number): { year: number; week: number } {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  return { year: date.getUTCFullYear(), week: Math.ceil(((date.getTime() - yearStart) / DAY_MS + 1) / 7) };
}

/** The period containing an instant; months and ISO weeks (Monday 00:00) start in local time. */
export function periodAt(kind: PeriodKind, at: Date, timeZone: string): Period {
  if (kind === 'ALL_TIME') return { kind, key: 'ALL_TIME', start: null, end: null };
  const p = localParts(at, timeZone);
  if (kind === 'MONTHLY') {
    const start = fromLocal(p.year, p.month, 1, timeZone);
    const end = p.month === 12 ? fromLocal(p.year + 1, 1, 1, timeZone) : fromLocal(p.year, p.month + 1, 1, timeZone);
    return { kind, key: `${p.year}-${String(p.month).padStart(2, '0')}`, start, end };
  }
  const start = addLocalDays(at, 1 - p.weekday, timeZone);
  const end = addLocalDays(start, 7, timeZone);
  const week = isoWeekOf(p.year, p.month, p.day);
  return { kind, key: `${week.year}-W${String(week.week).padStart(2, '0')}`, start, end };
}
