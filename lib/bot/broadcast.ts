// The daily announcement to every user, paced under the broadcast rate. Progress lives in the
// announcements table, so a restart resumes exactly the users still pending. A 429 pauses the
// whole broadcast for retry_after (the limit is per bot, not per chat); a 403 marks the user
// inactive. stop() lets in-flight sends finish and record their outcome before returning.

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
  /** Attempts per user for errors other than 429/403. Default 3. */
  maxAttempts?: number;
}

export interface BroadcastResult {
  day: string;
  sent: number;
  blocked: number;
  failed: number;
  rateLimited: number;
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
    if (!p && this.stopped) return Promise.resolve({ day, sent: 0, blocked: 0, failed: 0, rateLimited: 0, remaining: -1, ms: 0 });
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
    const r: BroadcastResult = { day, sent: 0, blocked: 0, failed: 0, rateLimited: 0, remaining: 0, ms: 0 };
    if (!queue.length) return r;
    log.info("broadcast_start", { day, pending: queue.length, rate_per_s: this.d.ratePerS });
    const interval = 1000 / this.d.ratePerS;
    // Enough in flight to keep the rate when a send takes a while, never an unbounded burst.
    const maxInFlight = Math.max(1, Math.ceil(this.d.ratePerS));
    const inFlight = new Set<Promise<void>>();
    const attempts = new Map<number, number>();
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
        } else {
          const n = (attempts.get(userId) ?? 0) + 1;
          attempts.set(userId, n);
          if (n < (this.d.maxAttempts ?? 3)) queue.push(userId);
          else {
            r.failed++;
            db.markAnnouncement(day, userId, "failed", null, f.description);
            log.warn("broadcast_send_failed", { day, user_id: userId, error: f.description, attempts: n });
          }
        }
      }
    };

    while (!this.stopped) {
      if (!queue.length) {
        if (!inFlight.size) break;
        await Promise.race(inFlight);
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
