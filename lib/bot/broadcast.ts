// The daily announcement to every user, paced under the broadcast rate. Progress lives in the
// announcements table, so a restart resumes exactly the users still pending. A 429 pauses the
// whole broadcast for retry_after (the limit is per bot, not per chat); a 403 marks the user
// inactive. A transient error (no HTTP answer: network down, timeout; or a 5xx) retries that user
// with exponential backoff (1 s, 2 s, 4 s ... capped) and leaves them `pending` meanwhile, so a
// restart retries them too; only a permanent error (another 4xx: chat not found, ...) gives up
// (`failed`). stop() lets in-flight sends finish and record their outcome before returning.
//
// Delivery is at-least-once: a send is recorded only after Telegram has answered it, so if the
// process dies hard (kill -9, power loss) between the two, the restart re-sends the announcements
// that were in flight — at most `maxInFlight` (about one second's worth at the configured rate).
// Recording first would turn that into at-most-once (losing them instead); a duplicate "booking is
// open" message is the lesser harm, and a graceful stop (SIGINT/SIGTERM) loses and repeats nothing.

import type { BotDb } from "../db.ts";
import type { Logger } from "../log.ts";
import { classifySendError, type BotIO } from "./io.ts";

export interface BroadcastDeps {
  db: BotDb;
  io: BotIO;
  log: Logger;
  ratePerS: number;
  text: string;
  now: () => number;
  /** Called when a user turns out to have blocked the bot. */
  onBlocked?: (userId: number) => void;
  /** First backoff after a transient error (ms), doubling per attempt. Default 1000. */
  retryBaseMs?: number;
  /** Longest backoff (ms). Default 60 000. */
  retryMaxMs?: number;
  /**
   * Stop retrying a user this long (ms) after their first transient error in this run; they stay
   * pending (a restart retries them). Default one hour.
   */
  retryForMs?: number;
}

/** Errors worth retrying: no HTTP answer at all (network, timeout, garbage body) or a 5xx. */
export function isTransient(f: { code?: number }): boolean {
  return f.code === undefined || f.code >= 500;
}

/** The backoff before retry number `attempt` (1-based): base, 2·base, 4·base ... up to max. */
export function backoffMs(attempt: number, baseMs = 1000, maxMs = 60_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
}

export interface BroadcastResult {
  day: string;
  sent: number;
  blocked: number;
  failed: number;
  rateLimited: number;
  /** Transient errors, each retried later. */
  retried: number;
  remaining: number;
  ms: number;
}

export class Broadcaster {
  private readonly runs = new Map<string, Promise<BroadcastResult>>();
  private stopped = false;
  private wakers = new Set<() => void>();

  constructor(private readonly d: BroadcastDeps) {}

  /** Starts (or joins) the day's broadcast. */
  run(day: string): Promise<BroadcastResult> {
    let p = this.runs.get(day);
    if (!p && this.stopped) return Promise.resolve({ day, sent: 0, blocked: 0, failed: 0, rateLimited: 0, retried: 0, remaining: -1, ms: 0 });
    if (!p) {
      p = this.loop(day).finally(() => this.runs.delete(day));
      this.runs.set(day, p);
    }
    return p;
  }

  /** Resolves when no broadcast is running. */
  async idle(): Promise<void> {
    while (this.runs.size) await Promise.allSettled([...this.runs.values()]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.wakers) w();
    await this.idle();
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, Math.ceil(ms));
      this.wakers.add(wake);
    });
  }

  private async loop(day: string): Promise<BroadcastResult> {
    const { db, log, now } = this.d;
    const queue = db.pendingAnnouncements(day);
    const started = now();
    const r: BroadcastResult = { day, sent: 0, blocked: 0, failed: 0, rateLimited: 0, retried: 0, remaining: 0, ms: 0 };
    if (!queue.length) return r;
    log.info("broadcast_start", { day, pending: queue.length, rate_per_s: this.d.ratePerS });
    const interval = 1000 / this.d.ratePerS;
    // Enough in flight to keep the rate when a send takes a while, never an unbounded burst.
    const maxInFlight = Math.max(1, Math.ceil(this.d.ratePerS));
    const inFlight = new Set<Promise<void>>();
    // Users waiting out a transient error's backoff, and their first failure and failure count.
    const later: { userId: number; at: number }[] = [];
    const failures = new Map<number, { first: number; n: number }>();
    const { retryBaseMs = 1000, retryMaxMs = 60_000, retryForMs = 3_600_000 } = this.d;
    let nextSlot = now();
    let pausedUntil = 0;

    const sendOne = async (userId: number): Promise<void> => {
      try {
        await this.d.io.sendOnce(userId, this.d.text);
        db.markAnnouncement(day, userId, "sent", now());
        r.sent++;
      } catch (e) {
        const f = classifySendError(e);
        if (f.kind === "rateLimited") {
          r.rateLimited++;
          pausedUntil = Math.max(pausedUntil, now() + f.retryAfterS * 1000);
          queue.unshift(userId);
          log.warn("broadcast_rate_limited", { day, user_id: userId, retry_after_s: f.retryAfterS });
        } else if (f.kind === "blocked") {
          r.blocked++;
          db.markAnnouncement(day, userId, "blocked", null, f.description);
          db.setInactive(userId);
          this.d.onBlocked?.(userId);
          log.info("user_blocked_bot", { day, user_id: userId, error: f.description });
        } else if (isTransient(f)) {
          const t = now();
          const fl = failures.get(userId) ?? { first: t, n: 0 };
          fl.n++;
          failures.set(userId, fl);
          db.markAnnouncement(day, userId, "pending", null, f.description); // counts the attempt
          if (t - fl.first < retryForMs) {
            r.retried++;
            const delay = backoffMs(fl.n, retryBaseMs, retryMaxMs);
            later.push({ userId, at: t + delay });
            log.warn("broadcast_send_retry", { day, user_id: userId, error: f.description, code: f.code, attempt: fl.n, retry_in_ms: delay });
          } else {
            log.warn("broadcast_send_deferred", { day, user_id: userId, error: f.description, attempts: fl.n }, `Announcement to ${userId} still failing after ${fl.n} attempts; left pending for the next start`);
          }
        } else {
          r.failed++;
          db.markAnnouncement(day, userId, "failed", null, f.description);
          log.warn("broadcast_send_failed", { day, user_id: userId, error: f.description, code: f.code });
        }
      }
    };

    while (!this.stopped) {
      // Backoffs that are over go to the back of the queue.
      const t = now();
      for (let i = 0; i < later.length; ) {
        if (later[i]!.at <= t) queue.push(later.splice(i, 1)[0]!.userId);
        else i++;
      }
      if (!queue.length) {
        if (!inFlight.size && !later.length) break;
        let nextRetry = Infinity;
        for (const x of later) nextRetry = Math.min(nextRetry, x.at - t);
        await Promise.race([...inFlight, ...(nextRetry < Infinity ? [this.sleep(nextRetry)] : [])]);
        continue;
      }
      const wait = Math.max(pausedUntil, nextSlot) - now();
      if (wait > 0) {
        await this.sleep(wait);
        continue; // re-check: a 429 may have moved pausedUntil meanwhile
      }
      if (inFlight.size >= maxInFlight) {
        await Promise.race(inFlight);
        continue;
      }
      const userId = queue.shift()!;
      nextSlot = Math.max(nextSlot + interval, now() - interval);
      const p: Promise<void> = sendOne(userId).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.allSettled([...inFlight]);
    r.remaining = db.pendingAnnouncements(day).length;
    r.ms = now() - started;
    log.info(this.stopped ? "broadcast_interrupted" : "broadcast_done", { ...r, ms: Math.round(r.ms) });
    return r;
  }
}
