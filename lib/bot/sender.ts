// Everything the bot sends goes through one queue, paced under Telegram's limits: a global budget
// (Telegram allows about 30 messages/s per bot), about one message a second per chat after a
// short burst, and a 429's retry_after pauses every sender at once. Lower priorities wait, so a
// broadcast never starves a race. Callback answers are not messages: they skip the queue.
// Transient errors (5xx, resets, timeouts) are retried with backoff until the message's deadline;
// other errors are final (403: the user blocked the bot).

import { TelegramError, type Bot, type InlineKeyboard, type Keyboard, type RemoveKeyboard } from "gramio";
import type { Logger } from "../log.ts";
import { backoffMs } from "../retry.ts";

/** Lower goes first: a winner's result, other booking results, prompts and menus, the announcement. */
export const PRIORITY = { won: 0, result: 1, reply: 2, broadcast: 3 } as const;
export type Priority = keyof typeof PRIORITY;
export type Outcome = "sent" | "blocked" | "failed" | "unsent";
export type Markup = InlineKeyboard | Keyboard | RemoveKeyboard;

export interface SendLimits {
  /** Messages per second for the whole bot, and how many may go at once after a quiet spell. */
  perS: number;
  burst: number;
  chatPerS: number;
  chatBurst: number;
  /** The announcement's ceiling within the global budget. */
  broadcastPerS: number;
}

export const TELEGRAM_LIMITS: SendLimits = { perS: 25, burst: 5, chatPerS: 1, chatBurst: 3, broadcastPerS: 25 };

export interface SendOptions {
  keyboard?: Markup;
  priority?: Priority;
  /** For the log, and to mark a user who blocked the bot. */
  userId?: number;
  /** How long transient errors are retried (ms from now). Default 5 minutes. */
  retryForMs?: number;
}

/** The Bot API calls the sender makes. */
export type SendApi = Pick<Bot["api"], "sendMessage" | "editMessageText" | "answerCallbackQuery">;

interface Job extends SendOptions {
  chatId: number;
  call: () => Promise<unknown>;
  deadline: number;
  attempts: number;
  notBefore: number;
  done: (o: Outcome) => void;
}

/** How many jobs of one priority are looked at to find one whose chat may be written to now. */
const SCAN = 300;

export function classifySendError(e: unknown): { kind: "rateLimited" | "blocked" | "permanent" | "transient"; description: string; retryAfterS?: number } {
  const description = e instanceof Error ? e.message : String(e);
  // No HTTP answer at all (reset, refused, timeout) or a body that is not the Bot API's JSON.
  if (!(e instanceof TelegramError)) return { kind: "transient", description };
  if (e.code === 429) return { kind: "rateLimited", description, retryAfterS: Math.max(1, (e.payload as { retry_after?: number } | undefined)?.retry_after ?? 1) };
  if (e.code === 403) return { kind: "blocked", description };
  return { kind: e.code >= 500 ? "transient" : "permanent", description };
}

/** A token bucket: `perS` tokens a second, at most `size` saved up. */
class Bucket {
  private tokens: number;
  constructor(private readonly perS: number, private readonly size: number, private at: number) {
    this.tokens = size;
  }
  /** Ms until a token is there (0: now). */
  waitMs(now: number): number {
    this.tokens = Math.min(this.size, this.tokens + ((now - this.at) * this.perS) / 1000);
    this.at = now;
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.perS;
  }
  take(): void {
    this.tokens -= 1;
  }
  idle(now: number): boolean {
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
  private timerAt = Infinity;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  readonly counts = { sent: 0, n429: 0, retried: 0, failed: 0 };

  constructor(
    private readonly api: SendApi,
    private readonly log: Logger,
    private readonly limits: SendLimits = TELEGRAM_LIMITS,
    private readonly onBlocked: (userId: number) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.global = new Bucket(limits.perS, limits.burst, now());
    this.broadcast = new Bucket(Math.min(limits.broadcastPerS, limits.perS), 1, now());
  }

  /** Queues a message; resolves with what became of it (never rejects). */
  message(chatId: number, text: string, o: SendOptions = {}): Promise<Outcome> {
    const markup = o.keyboard ? { reply_markup: o.keyboard } : {};
    return this.enqueue(chatId, o, () => this.api.sendMessage({ chat_id: chatId, text, ...markup }));
  }

  /** Edits a message in place: an edit counts against the same limits as a message. */
  edit(chatId: number, messageId: number, text: string, o: SendOptions & { keyboard?: InlineKeyboard } = {}): Promise<Outcome> {
    const markup = o.keyboard ? { reply_markup: o.keyboard } : {};
    return this.enqueue(chatId, o, () => this.api.editMessageText({ chat_id: chatId, message_id: messageId, text, ...markup }));
  }

  /** Answers a callback query at once. Never rejects. */
  answer(queryId: string, text?: string, alert?: boolean): void {
    this.api
      .answerCallbackQuery({ callback_query_id: queryId, ...(text ? { text } : {}), ...(alert ? { show_alert: true } : {}) })
      .catch((e: unknown) => this.log.warn("answer_callback_failed", { query_id: queryId, error: classifySendError(e).description }));
  }

  private enqueue(chatId: number, o: SendOptions, call: () => Promise<unknown>): Promise<Outcome> {
    if (this.stopped) return Promise.resolve("unsent");
    return new Promise((done) => {
      const job: Job = { ...o, chatId, call, deadline: this.now() + (o.retryForMs ?? 300_000), attempts: 0, notBefore: 0, done };
      this.queues[PRIORITY[o.priority ?? "reply"]]!.push(job);
      this.pump();
    });
  }

  private wakeIn(ms: number): void {
    const at = this.now() + Math.max(1, ms);
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.ceil(at - this.now()));
  }

  /** Sends whatever the limits allow now, in priority order, and sets a timer for the rest. */
  private pump(): void {
    while (!this.stopped) {
      const now = this.now();
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
      this.dispatch(job);
    }
  }

  private chat(chatId: number, now: number): Bucket {
    let b = this.chats.get(chatId);
    if (b) return b;
    // A chat whose bucket has refilled is like a new one: forget those now and then.
    if (this.chats.size >= 10_000 && now - this.prunedAt > 1000) {
      this.prunedAt = now;
      for (const [id, c] of this.chats) if (c.idle(now)) this.chats.delete(id);
    }
    this.chats.set(chatId, (b = new Bucket(this.limits.chatPerS, this.limits.chatBurst, now)));
    return b;
  }

  private dispatch(job: Job): void {
    job.attempts++;
    const p: Promise<void> = job
      .call()
      .then(() => {
        this.counts.sent++;
        job.done("sent");
      }, (e: unknown) => this.failed(job, e))
      .finally(() => {
        this.inFlight.delete(p);
        this.pump();
      });
    this.inFlight.add(p);
  }

  private failed(job: Job, e: unknown): void {
    const f = classifySendError(e);
    const now = this.now();
    const where = { chat_id: job.chatId, priority: job.priority ?? "reply", attempt: job.attempts, error: f.description };
    if (f.kind === "rateLimited") {
      this.counts.n429++;
      this.pausedUntil = Math.max(this.pausedUntil, now + f.retryAfterS! * 1000);
      this.log.warn("send_rate_limited", { ...where, retry_after_s: f.retryAfterS }, `429 from the Bot API: every send waits ${f.retryAfterS} s`);
      return this.requeue(job);
    }
    if (f.kind === "blocked") {
      if (job.userId !== undefined) this.onBlocked(job.userId);
      this.log.info("user_blocked_bot", { ...where, user_id: job.userId });
      return job.done("blocked");
    }
    const delay = backoffMs(job.attempts, 500, 30_000);
    if (f.kind === "transient" && now + delay < job.deadline) {
      this.counts.retried++;
      this.log.warn("send_retry", { ...where, retry_in_ms: delay });
      job.notBefore = now + delay;
      return this.requeue(job);
    }
    this.counts.failed++;
    this.log.warn("send_failed", { ...where, user_id: job.userId, kind: f.kind });
    job.done(f.kind === "transient" ? "unsent" : "failed");
  }

  private requeue(job: Job): void {
    if (this.stopped) return job.done("unsent");
    this.queues[PRIORITY[job.priority ?? "reply"]]!.unshift(job);
  }

  /**
   * Stops sending: what is queued resolves "unsent" at once (whoever must not lose it has
   * persisted it); sends in flight get until `deadline` (an instant on `now`) to finish.
   */
  async stop(deadline: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const q of this.queues) for (const job of q.splice(0)) job.done("unsent");
    const left = deadline - this.now();
    if (left > 0 && this.inFlight.size) await Promise.race([Promise.allSettled([...this.inFlight]), Bun.sleep(left)]);
  }
}
