// The daily opening: booking opens at BOOKING_TIME (hit with the precise scheduler), and the
// first to notice it is time — the scheduler, or an update that arrives a hair earlier — opens the
// day in the database (idempotently) and starts the announcement. After a restart past the
// opening time the day is already open (or is opened now) and the pending announcements resume.

import type { BotDb, TransportSeed } from "../db.ts";
import type { Logger } from "../log.ts";
import { nextDailyInstant, nowMs, preciseAt, wallTimeIn, zonedInstant, type Cancellable, type DailyTime } from "../timing.ts";

const p2 = (n: number) => String(n).padStart(2, "0");
const MIDNIGHT: DailyTime = { hour: 0, minute: 0, second: 0 };

/** "Today" in the configured zone, cached per day so the hot path does not format dates on every update. */
export class Calendar {
  private cached: DayInfo | undefined;

  constructor(
    readonly bookingTime: DailyTime,
    readonly timeZone: string,
  ) {}

  /** The day of `epochMs` ("YYYY-MM-DD"), its bounds, and its BOOKING_TIME (epoch ms). */
  at(epochMs: number) {
    const c = this.cached;
    if (c && epochMs >= c.dayStart && epochMs < c.dayEnd) return c;
    const w = wallTimeIn(epochMs, this.timeZone);
    const next = new Date(Date.UTC(w.year, w.month - 1, w.day + 1));
    return (this.cached = {
      day: `${w.year}-${p2(w.month)}-${p2(w.day)}`,
      dayStart: zonedInstant(w.year, w.month, w.day, MIDNIGHT, this.timeZone),
      dayEnd: zonedInstant(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), MIDNIGHT, this.timeZone),
      openAt: zonedInstant(w.year, w.month, w.day, this.bookingTime, this.timeZone),
    });
  }
}

type DayInfo = { day: string; dayStart: number; dayEnd: number; openAt: number };

/**
 * The bot's clock: monotonic (a wait of the precise scheduler never jumps) plus an offset to the wall
 * clock, re-anchored before each day's opening is scheduled, so that NTP slews, clock steps or
 * suspends over weeks do not move BOOKING_TIME.
 */
export class WallAnchoredClock {
  private offset = 0;

  constructor(private readonly mono: () => number = nowMs, private readonly wall: () => number = Date.now) {}

  readonly now = (): number => this.mono() + this.offset;

  /** Moves the clock onto the wall clock if they differ by 2 ms or more (Date.now() has whole ms); returns the correction. */
  reanchor(): number {
    // Date.now() is floored: on average half a millisecond behind.
    const drift = this.wall() + 0.5 - this.now();
    if (Math.abs(drift) < 2) return 0;
    this.offset += drift;
    return drift;
  }
}

export class DailyOpening {
  private openedDay: string | undefined;
  private timer: Cancellable | undefined;
  private stopped = false;

  /** `onOpen`: the day is open, announce it (or resume announcing it after a restart). */
  constructor(
    private readonly db: BotDb,
    private readonly calendar: Calendar,
    private readonly seed: readonly TransportSeed[],
    private readonly log: Logger,
    private readonly clock: WallAnchoredClock,
    private readonly onOpen: (day: string) => void,
  ) {}

  /** Whether booking is open at `at`; opens the day if its time has come and nobody did yet. */
  isOpen(at: number): boolean {
    const day = this.calendar.at(at);
    if (at < day.openAt) return false;
    if (this.openedDay !== day.day) this.open(day, at);
    return true;
  }

  private open(day: DayInfo, at: number): void {
    const fresh = this.db.openDay(day.day, day.openAt, at, this.seed);
    this.openedDay = day.day;
    const late = at - day.openAt;
    if (fresh) this.log.info("booking_opened", { day: day.day, late_ms: Number(late.toFixed(3)) }, `Booking opened for ${day.day}, ${late.toFixed(1)} ms after BOOKING_TIME`);
    else this.log.info("booking_already_open", { day: day.day }, `Booking for ${day.day} was opened before this start; resuming`);
    this.onOpen(day.day);
  }

  /** Opens today if its time has passed (resuming after a restart), then schedules the next opening. */
  start(): void {
    this.isOpen(this.clock.now());
    this.scheduleNext();
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const { now } = this.clock;
    const drift = this.clock.reanchor();
    if (drift) this.log.info("clock_reanchored", { drift_ms: Number(drift.toFixed(3)) }, `The clock had drifted ${drift.toFixed(1)} ms from the wall clock; re-anchored`);
    const at = nextDailyInstant(this.calendar.bookingTime, now() + 1, this.calendar.timeZone);
    this.log.info("opening_scheduled", { at: new Date(at).toISOString(), in_s: Math.round((at - now()) / 1000) });
    this.timer = preciseAt(at, () => {
      if (this.stopped) return;
      try {
        this.isOpen(now());
      } catch (e) {
        this.log.error("opening_failed", { error: e as Error });
      }
      this.scheduleNext();
    }, { now });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}
