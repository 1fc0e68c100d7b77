// The daily opening: booking opens at BOOKING_TIME (hit with the precise scheduler), and the
// first to notice it is time — the scheduler, or an update that arrives a hair earlier — opens the
// day in the database (idempotently) and starts the announcement. After a restart past the
// opening time the day is already open (or is opened now) and the pending announcements resume.

import type { BotDb, TransportSeed } from "../db.ts";
import type { Logger } from "../log.ts";
import { nextDailyInstant, nowMs, preciseAt, type Cancellable } from "../timing.ts";
import type { Calendar, DayInfo } from "./calendar.ts";

export interface OpeningDeps {
  db: BotDb;
  calendar: Calendar;
  seed: readonly TransportSeed[];
  log: Logger;
  now: () => number;
  /** Re-anchors `now` to the wall clock before each day's opening is scheduled; returns the correction in ms. */
  reanchor?: () => number;
  /** The day is open: announce it (fresh) or resume announcing it (after a restart). */
  onOpen: (day: string, fresh: boolean) => void;
}

/**
 * The bot's clock: `nowMs()` (monotonic, so one wait of the precise scheduler never jumps) plus an
 * offset to the wall clock. `nowMs()` alone is anchored to the wall clock once, at process start:
 * a bot that runs for weeks under systemd drifts from it after NTP slews, a clock step or a
 * suspend (the monotonic clock stops while suspended), and BOOKING_TIME would be hit that far off.
 * So the daily scheduler calls reanchor() before it computes each next opening: the next instant
 * comes from today's Date.now(), and the offset stays fixed for the whole wait that follows.
 * Re-anchoring moves `now` by the drift; a drift under 2 ms is left alone so that Date.now()'s
 * whole-millisecond resolution adds no jitter (the precise scheduler aims at a few ms).
 */
export class WallAnchoredClock {
  private offset = 0;

  constructor(private readonly mono: () => number = nowMs, private readonly wall: () => number = Date.now) {}

  readonly now = (): number => this.mono() + this.offset;

  /** Moves the clock onto the wall clock if they differ by 2 ms or more; returns the correction (ms). */
  reanchor(): number {
    // Date.now() is floored to the millisecond: its reading is, on average, half a ms behind.
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

  constructor(private readonly d: OpeningDeps) {}

  /** Whether booking is open at `at`; opens the day if its time has come and nobody did yet. */
  isOpen(at: number): boolean {
    const day = this.d.calendar.at(at);
    if (at < day.openAt) return false;
    if (this.openedDay !== day.day) this.open(day, at);
    return true;
  }

  private open(day: DayInfo, at: number): void {
    const fresh = this.d.db.openDay(day.day, day.openAt, at, this.d.seed);
    this.openedDay = day.day;
    const late = at - day.openAt;
    if (fresh) this.d.log.info("booking_opened", { day: day.day, late_ms: Number(late.toFixed(3)) }, `Booking opened for ${day.day}, ${late.toFixed(1)} ms after BOOKING_TIME`);
    else this.d.log.info("booking_already_open", { day: day.day }, `Booking for ${day.day} was opened before this start; resuming`);
    this.d.onOpen(day.day, fresh);
  }

  /** Opens today if its time has passed (resuming after a restart), then schedules the next opening. */
  start(): void {
    this.isOpen(this.d.now());
    this.scheduleNext();
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const { calendar, now, log } = this.d;
    const drift = this.d.reanchor?.() ?? 0;
    if (drift) log.info("clock_reanchored", { drift_ms: Number(drift.toFixed(3)) }, `The clock had drifted ${drift.toFixed(1)} ms from the wall clock; re-anchored`);
    const at = nextDailyInstant(calendar.bookingTime, now() + 1, calendar.timeZone);
    log.info("opening_scheduled", { at: new Date(at).toISOString(), in_s: Math.round((at - now()) / 1000) });
    this.timer = preciseAt(at, () => {
      this.timer = undefined;
      if (this.stopped) return;
      try {
        this.isOpen(now());
      } catch (e) {
        log.error("opening_failed", { error: e as Error });
      }
      this.scheduleNext();
    }, { now });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}
