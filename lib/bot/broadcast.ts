// The daily announcement to every user, through the sender's queue at the lowest priority (so a
// race is never starved by it) and under BROADCAST_RATE_PER_S. Progress lives in the
// announcements table, so a restart resumes exactly the users still pending: a send that failed
// for good is `failed`, one to a user who blocked the bot `blocked`, and one the sender gave up on
// (transient errors past its deadline, or the bot stopping) stays `pending`.
//
// Delivery is at-least-once: a send is recorded only after Telegram has answered it, so if the
// process dies hard (kill -9, power loss) between the two, the restart re-sends the announcements
// that were in flight (about one second's worth). Recording first would lose them instead; a
// duplicate "booking is open" is the lesser harm, and a graceful stop repeats nothing.

import type { BotDb } from "../db.ts";
import type { Logger } from "../log.ts";
import type { Outcome, Sender } from "./sender.ts";

export interface BroadcastResult {
  day: string;
  sent: number;
  blocked: number;
  failed: number;
  /** Left pending for the next start. */
  remaining: number;
  ms: number;
}

export class Broadcaster {
  private readonly runs = new Map<string, Promise<BroadcastResult>>();

  constructor(
    private readonly d: { db: BotDb; send: Sender; log: Logger; text: string; now: () => number },
  ) {}

  /** Starts (or joins) the day's broadcast. */
  run(day: string): Promise<BroadcastResult> {
    let p = this.runs.get(day);
    if (!p) {
      p = this.announce(day).finally(() => this.runs.delete(day));
      this.runs.set(day, p);
    }
    return p;
  }

  /** Resolves when no broadcast is running. */
  async idle(): Promise<void> {
    while (this.runs.size) await Promise.allSettled([...this.runs.values()]);
  }

  private async announce(day: string): Promise<BroadcastResult> {
    const { db, send, log, text, now } = this.d;
    const started = now();
    const users = db.pendingAnnouncements(day);
    const r: BroadcastResult = { day, sent: 0, blocked: 0, failed: 0, remaining: 0, ms: 0 };
    if (!users.length) return r;
    log.info("broadcast_start", { day, pending: users.length });
    const record = (userId: number, o: Outcome) => {
      if (o === "sent") r.sent++;
      else if (o === "blocked") r.blocked++;
      else if (o === "failed") r.failed++;
      else r.remaining++;
      db.markAnnouncement(day, userId, o === "unsent" ? "pending" : o, o === "sent" ? now() : null);
    };
    await Promise.all(users.map((id) => send.message(id, text, { userId: id, priority: "broadcast", retryForMs: 3_600_000 }).then((o) => record(id, o))));
    r.ms = now() - started;
    log.info(r.remaining ? "broadcast_interrupted" : "broadcast_done", { ...r, ms: Math.round(r.ms) });
    return r;
  }
}
