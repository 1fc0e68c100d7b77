// Dates, times of day and zones are Temporal's: Bun has it from 1.4 on.
if (typeof Temporal === "undefined") throw new Error(`Bun ${Bun.version} has no Temporal: aprel needs Bun 1.4 or newer (run \`bun upgrade\`)`);

/** Epoch ms, sub-millisecond, from the monotonic clock: it never jumps, but ignores NTP corrections made after start. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** setTimeout rejects (and Bun clamps) delays above 2^31-1 ms, so longer waits are chunked. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Stop sleeping this long before the instant and watch the clock; busy-wait within the last BUSY_MS. */
const SPIN_MS = 4;
const BUSY_MS = 1;

/** Injectable for tests. */
type PreciseAtOptions = {
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: any) => void;
  yieldFn?: (fn: () => void) => void;
};

export type Cancellable = { cancel(): void };

/**
 * Calls `fn` at `targetEpochMs` (by `opts.now`) or just after, never before: Bun's timers truncate
 * fractional delays and may fire ~1 ms early, so it sleeps until SPIN_MS before, then re-checks
 * the clock between event-loop turns until BUSY_MS before, then busy-waits. A target in the past
 * fires on the next tick (never synchronously).
 */
export function preciseAt(targetEpochMs: number, fn: () => void, opts: PreciseAtOptions = {}): Cancellable {
  const now = opts.now ?? nowMs;
  const setT = opts.setTimeout ?? setTimeout;
  const clearT: (handle: any) => void = opts.clearTimeout ?? clearTimeout;
  const yieldFn = opts.yieldFn ?? setImmediate;
  let cancelled = false;
  let timer: unknown;

  const check = (): void => {
    timer = undefined;
    if (cancelled) return;
    const remaining = targetEpochMs - now();
    if (remaining > SPIN_MS) {
      timer = setT(check, Math.min(Math.floor(remaining - SPIN_MS), MAX_TIMER_DELAY_MS));
    } else if (remaining > BUSY_MS) {
      yieldFn(check);
    } else {
      while (now() < targetEpochMs) {
        // busy-wait: at most BUSY_MS, the only way to beat the timers' resolution
      }
      fn();
    }
  };
  // Never call fn synchronously from preciseAt itself: callers expect to get the handle first.
  yieldFn(check);

  return {
    cancel() {
      cancelled = true;
      if (timer !== undefined) clearT(timer);
    },
  };
}

/** Resolves at `targetEpochMs` or just after, with how late it was (ms); rejects when aborted. */
export function sleepUntil(targetEpochMs: number, signal?: AbortSignal, opts: PreciseAtOptions = {}): Promise<number> {
  const now = opts.now ?? nowMs;
  return new Promise<number>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      handle.cancel();
      reject(signal!.reason);
    };
    const done = () => {
      signal?.removeEventListener("abort", onAbort);
      resolve(now() - targetEpochMs);
    };
    const handle = preciseAt(targetEpochMs, done, opts);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A time of day as the config writes it (Temporal's own parser takes more forms than we mean to). */
export function parseDailyTime(text: string): Temporal.PlainTime {
  const s = String(text).trim();
  if (!/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/.test(s)) {
    throw new Error(`invalid time ${JSON.stringify(text)}: expected "HH:MM" or "HH:MM:SS" on a 24-hour clock, e.g. "11:30:00"`);
  }
  return Temporal.PlainTime.from(s);
}

export const pad2 = (n: number) => String(n).padStart(2, "0");

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The calendar date in `tz` at an instant. */
export function dateIn(epochMs: number, tz: string): Temporal.PlainDate {
  return Temporal.Instant.fromEpochMilliseconds(Math.floor(epochMs)).toZonedDateTimeISO(tz).toPlainDate();
}

/**
 * The instant at which the wall clock in `tz` reads `t` on `date`. Around DST changes (Temporal's
 * "compatible" rule): a time that occurs twice (clocks go back) gives the first occurrence; a time
 * that does not exist (clocks go forward) moves forward by the gap, e.g. 02:30 on the
 * spring-forward night in Berlin is 03:30 summer time.
 */
export function zonedInstant(date: Temporal.PlainDate, t: Temporal.PlainTime, tz: string): number {
  return date.toZonedDateTime({ timeZone: tz, plainTime: t }).epochMilliseconds;
}

export function nextDailyInstant(t: Temporal.PlainTime, fromEpochMs: number, timeZone: string = systemTimeZone()): number {
  const today = dateIn(fromEpochMs, timeZone);
  const at = zonedInstant(today, t, timeZone);
  return at >= fromEpochMs ? at : zonedInstant(today.add({ days: 1 }), t, timeZone);
}

/** "HH:MM:SS" for a countdown; rounds up, so it reads 00:00:00 only when the time has come. */
export function formatCountdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}`;
}
