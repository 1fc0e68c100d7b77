// "Today" in the configured zone: the day key, its bounds and today's opening instant, cached
// per day so the hot path does not format dates on every update.

import { wallTimeIn, zonedInstant, type DailyTime } from "../timing.ts";

export interface DayInfo {
  /** "YYYY-MM-DD" in the zone */
  day: string;
  dayStart: number;
  dayEnd: number;
  /** Today's BOOKING_TIME as epoch ms. */
  openAt: number;
}

const p2 = (n: number) => String(n).padStart(2, "0");
const MIDNIGHT: DailyTime = { hour: 0, minute: 0, second: 0 };

export function dayInfo(epochMs: number, bookingTime: DailyTime, timeZone: string): DayInfo {
  const w = wallTimeIn(epochMs, timeZone);
  const next = new Date(Date.UTC(w.year, w.month - 1, w.day + 1));
  return {
    day: `${w.year}-${p2(w.month)}-${p2(w.day)}`,
    dayStart: zonedInstant(w.year, w.month, w.day, MIDNIGHT, timeZone),
    dayEnd: zonedInstant(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), MIDNIGHT, timeZone),
    openAt: zonedInstant(w.year, w.month, w.day, bookingTime, timeZone),
  };
}

export class Calendar {
  private cached: DayInfo | undefined;

  constructor(
    readonly bookingTime: DailyTime,
    readonly timeZone: string,
  ) {}

  at(epochMs: number): DayInfo {
    const c = this.cached;
    if (c && epochMs >= c.dayStart && epochMs < c.dayEnd) return c;
    return (this.cached = dayInfo(epochMs, this.bookingTime, this.timeZone));
  }
}
