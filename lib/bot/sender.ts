// Everything the bot sends goes through one queue under Telegram's limits: a global budget (about
// 30 messages/s), about one message a second per chat after a short burst, and a 429's retry_after
// pauses every send. Lower priorities wait, so a broadcast never starves a race. Transient errors
// (5xx, resets, timeouts) are retried with backoff until the deadline; others are final (403: blocked).

import { TelegramError, type Bot, type InlineKeyboard, type Keyboard } from "gramio";
import type { Logger } from "../log.ts";
import { backoffMs } from "../retry.ts";

/** Lower goes first. */
const PRIORITY = { won: 0, result: 1, reply: 2, broadcast: 3 } as const;
export type Priority = keyof typeof PRIORITY;
type Outcome = "sent" | "blocked" | "failed" | "unsent";

/** Messages per second and bursts: for the whole bot, per chat, and the announcement's share of the whole. */
export type SendLimits = { perS: number; burst: number; chatPerS: number; chatBurst: number; broadcastPerS: number };
export const TELEGRAM_LIMITS: SendLimits = { perS: 25, burst: 5, chatPerS: 1, chatBurst: 3, broadcastPerS: 25 };

/** `editId`: edit that message instead (an edit counts as a message); `userId`: to log and to mark who blocked the bot. */
type SendOptions = { keyboard?: InlineKeyboard | Keyboard; editId?: number; priority?: Priority; userId?: number; retryForMs?: number };
type Job = SendOptions & { chatId: number; text: string; deadline: number; attempts: number; notBefore: number; done: (o: Outcome) => void };
export type SendApi = Pick<Bot["api"], "sendMessage" | "editMessageText">;

/** How many jobs of one priority are looked at to find one whose chat may be written to now. */
const SCAN = 300;

/** A token bucket: `perS` tokens a second, at most `size` saved up. */
class Bucket {
  constructor(private readonly perS: number, private readonly size: number, private at: number, private tokens = size) {}
  waitMs(now: number): number {
    this.tokens = Math.min(this.size, this.tokens + ((now - this.at) * this.perS) / 1000);
    this.at = now;
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.perS;
  }
  take(): void {
    this.tokens -= 1;
  }
  full(now: number): boolean {
    return this.waitMs(now) === 0 && this.tokens >= this.size;
  }
}

export class Sender {
  private readonly queues: Job[][] = Object.values(PRIORITY).map(() => []);
  private readonly global: Bucket;
  private readonly broadcast: Bucket;
  private readonly chats = new Map<number, Bucket>();
  private prunedAt = 0;
  private pausedUntil = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  readonly counts = { sent: 0, n429: 0, retried: 0, failed: 0 };

  constructor(
    private readonly api: SendApi,
    private readonly log: Logger,
    private readonly limits: SendLimits = TELEGRAM_LIMITS,
    private readonly onBlocked: (userId: number) => void = () => {},
  ) {
    const now = Date.now();
    this.global = new Bucket(limits.perS, limits.burst, now);
    // The announcement is spread evenly: at most 10 ms worth of it at once (one message at Telegram's rates).
    const broadcastPerS = Math.min(limits.broadcastPerS, limits.perS);
    this.broadcast = new Bucket(broadcastPerS, Math.max(1, broadcastPerS / 100), now);
  }

  /** Queues a message (or an edit); resolves with what became of it, never rejects. Transient errors are retried for 5 minutes. */
  send(chatId: number, text: string, o: SendOptions = {}): Promise<Outcome> {
    if (this.stopped) return Promise.resolve("unsent");
    return new Promise((done) => {
      this.queues[PRIORITY[o.priority ?? "reply"]]!.push({ ...o, chatId, text, deadline: Date.now() + (o.retryForMs ?? 300_000), attempts: 0, notBefore: 0, done });
      this.pump();
    });
  }

  /** Sends whatever the limits allow now, in priority order, and sets a timer for the rest. */
  private pump(): void {
    while (!this.stopped) {
      const now = Date.now();
      const wait = Math.max(this.pausedUntil - now, this.global.waitMs(now));
      if (wait > 0) return this.wakeIn(wait);
      let soonest = Infinity;
      let job: Job | undefined;
      for (const [p, q] of this.queues.entries()) {
        const queueWait = p === PRIORITY.broadcast && q.length ? this.broadcast.waitMs(now) : 0;
        if (queueWait > 0) soonest = Math.min(soonest, queueWait);
        for (let i = 0; i < Math.min(q.length, SCAN) && !job && queueWait <= 0; i++) {
          const chatWait = Math.max(q[i]!.notBefore - now, this.chat(q[i]!.chatId, now).waitMs(now));
          if (chatWait <= 0) job = q.splice(i, 1)[0];
          else soonest = Math.min(soonest, chatWait);
        }
        if (job) break;
      }
      if (!job) return soonest < Infinity ? this.wakeIn(soonest) : undefined;
      this.global.take();
      this.chat(job.chatId, now).take();
      if (job.priority === "broadcast") this.broadcast.take();
      const p: Promise<void> = this.deliver(job).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private wakeIn(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(ms)));
  }

  private chat(chatId: number, now: number): Bucket {
    let b = this.chats.get(chatId);
    if (b) return b;
    // A chat whose bucket has refilled is like a new one: forget those now and then.
    if (this.chats.size >= 10_000 && now - this.prunedAt > 1000) {
      this.prunedAt = now;
      for (const [id, c] of this.chats) if (c.full(now)) this.chats.delete(id);
    }
    this.chats.set(chatId, (b = new Bucket(this.limits.chatPerS, this.limits.chatBurst, now)));
    return b;
  }

  private async deliver(job: Job): Promise<void> {
    job.attempts++;
    const { chatId: chat_id, text, keyboard, editId } = job;
    try {
      if (editId === undefined) await this.api.sendMessage({ chat_id, text, reply_markup: keyboard });
      else await this.api.editMessageText({ chat_id, message_id: editId, text, reply_markup: keyboard as InlineKeyboard }); // inline buttons only
      this.counts.sent++;
      job.done("sent");
    } catch (e) {
      this.failed(job, e);
    }
    this.pump();
  }

  private failed(job: Job, e: unknown): void {
    const now = Date.now();
    const where = { chat_id: job.chatId, priority: job.priority ?? "reply", attempt: job.attempts, error: e instanceof Error ? e.message : String(e) };
    // No TelegramError: no answer at all (reset, refused, timeout) or a body that is not the Bot API's JSON.
    const code = e instanceof TelegramError ? e.code : 502;
    if (code === 429) {
      const retryAfterS = Math.max(1, (e as TelegramError<"sendMessage">).payload?.retry_after ?? 1);
      this.counts.n429++;
      this.pausedUntil = Math.max(this.pausedUntil, now + retryAfterS * 1000);
      this.log.warn("send_rate_limited", { ...where, retry_after_s: retryAfterS }, `429 from the Bot API: every send waits ${retryAfterS} s`);
      return this.requeue(job);
    }
    if (code === 403) {
      if (job.userId !== undefined) this.onBlocked(job.userId);
      this.log.info("user_blocked_bot", { ...where, user_id: job.userId });
      return job.done("blocked");
    }
    const delay = backoffMs(job.attempts, 500, 30_000);
    if (code >= 500 && now + delay < job.deadline) {
      this.counts.retried++;
      this.log.warn("send_retry", { ...where, retry_in_ms: delay });
      job.notBefore = now + delay;
      return this.requeue(job);
    }
    this.counts.failed++;
    this.log.warn("send_failed", { ...where, user_id: job.userId, kind: code >= 500 ? "transient" : "permanent" });
    job.done(code >= 500 ? "unsent" : "failed");
  }

  private requeue(job: Job): void {
    if (this.stopped) return job.done("unsent");
    this.queues[PRIORITY[job.priority ?? "reply"]]!.unshift(job);
  }

  /** Stops sending: what is queued resolves "unsent" at once (whoever must not lose it has persisted it); sends in flight get `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const q of this.queues) for (const job of q.splice(0)) job.done("unsent");
    if (this.inFlight.size) await Promise.race([Promise.allSettled([...this.inFlight]), Bun.sleep(graceMs)]);
  }
}
