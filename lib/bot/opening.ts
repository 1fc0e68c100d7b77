// The daily opening: whoever notices BOOKING_TIME first (the precise scheduler, or an update a hair
// earlier) opens the day in the database, idempotently, and announces it; a restart resumes both.

import type { BotDb, TransportSeed } from "../db.ts";
import type { Logger } from "../log.ts";
import { TEXT } from "../ui.ts";
import { dateIn, nextDailyInstant, nowMs, preciseAt, zonedInstant, type Cancellable } from "../timing.ts";
import type { Sender } from "./sender.ts";

type DayInfo = { day: string; dayStart: number; dayEnd: number; openAt: number };

/** "Today" in the configured zone, cached per day so the hot path does not format dates on every update. */
export class Calendar {
  private cached: DayInfo | undefined;

  constructor(readonly bookingTime: Temporal.PlainTime, readonly timeZone: string) {}

  at(epochMs: number): DayInfo {
    const c = this.cached;
    if (c && epochMs >= c.dayStart && epochMs < c.dayEnd) return c;
    const date = dateIn(epochMs, this.timeZone);
    return (this.cached = {
      day: date.toString(),
      dayStart: date.toZonedDateTime(this.timeZone).epochMilliseconds,
      dayEnd: date.add({ days: 1 }).toZonedDateTime(this.timeZone).epochMilliseconds,
      openAt: zonedInstant(date, this.bookingTime, this.timeZone),
    });
  }
}

// The bot's clock: monotonic (the scheduler's waits never jump) plus an offset to the wall clock,
// re-anchored before each day's scheduling so that NTP slews, steps or suspends do not move BOOKING_TIME.
export class WallAnchoredClock {
  private offset = 0;

  constructor(private readonly mono: () => number = nowMs, private readonly wall: () => number = Date.now) {}

  readonly now = (): number => this.mono() + this.offset;

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
  /** Resolves when no announcement is being broadcast. */
  broadcasts = Promise.resolve();

  constructor(
    private readonly db: BotDb,
    readonly calendar: Calendar,
    private readonly seed: readonly TransportSeed[],
    private readonly log: Logger,
    private readonly clock: WallAnchoredClock,
    private readonly sender: Sender,
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
    // Each day is announced once per process; a broadcast may outlast midnight.
    const p = this.announce(day.day).catch((e: Error) => this.log.error("broadcast_failed", { day: day.day, error: e }));
    this.broadcasts = Promise.all([this.broadcasts, p]).then(() => {});
  }

  // At the queue's lowest priority. The announcements table holds the progress, so a restart resumes
  // the users still pending; a send is recorded only once answered, so a crash repeats rather than loses.
  private async announce(day: string): Promise<void> {
    const users = this.db.pendingAnnouncements(day);
    if (!users.length) return;
    const started = performance.now();
    this.log.info("broadcast_start", { day, pending: users.length });
    const r = { sent: 0, blocked: 0, failed: 0, unsent: 0 };
    await Promise.all(
      users.map(async (id) => {
        const o = await this.sender.send(id, TEXT.announcement, { userId: id, priority: "broadcast", retryForMs: 3_600_000 });
        r[o]++;
        this.db.markAnnouncement(day, id, o === "unsent" ? "pending" : o, o === "sent" ? Date.now() : null);
      }),
    );
    const { unsent: remaining, ...counts } = r;
    this.log.info(remaining ? "broadcast_interrupted" : "broadcast_done", { day, ...counts, remaining, ms: Math.round(performance.now() - started) });
  }

  start(): void {
    this.isOpen(this.clock.now());
    this.scheduleNext();
  }

  private scheduleNext(): void {
    const { now } = this.clock;
    const drift = this.clock.reanchor();
    if (drift) this.log.info("clock_reanchored", { drift_ms: Number(drift.toFixed(3)) }, `The clock had drifted ${drift.toFixed(1)} ms from the wall clock; re-anchored`);
    const at = nextDailyInstant(this.calendar.bookingTime, now() + 1, this.calendar.timeZone);
    this.log.info("opening_scheduled", { at: new Date(at).toISOString(), in_s: Math.round((at - now()) / 1000) });
    this.timer = preciseAt(at, () => {
      try {
        this.isOpen(now());
      } catch (e) {
        this.log.error("opening_failed", { error: e as Error });
      }
      this.scheduleNext();
    }, { now });
  }

  stop(): void {
    this.timer?.cancel();
  }
}
