// The daily opening: booking opens at BOOKING_TIME (hit with the precise scheduler), and the
// first to notice it is time — the scheduler, or an update that arrives a hair earlier — opens the
// day in the database (idempotently) and starts the announcement. After a restart past the
// opening time the day is already open (or is opened now) and the pending announcements resume.

import type { BotDb, TransportSeed } from "../db.ts";
import type { Logger } from "../log.ts";
import { nextDailyInstant, preciseAt, type Cancellable } from "../timing.ts";
import type { Calendar, DayInfo } from "./calendar.ts";

export interface OpeningDeps {
  db: BotDb;
  calendar: Calendar;
  seed: readonly TransportSeed[];
  log: Logger;
  now: () => number;
  /** The day is open: announce it (fresh) or resume announcing it (after a restart). */
  onOpen: (day: string, fresh: boolean) => void;
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
