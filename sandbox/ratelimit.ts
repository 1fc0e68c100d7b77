// Telegram's flood limits for a bot's outgoing messages, as token buckets: about 30 messages/s
// across all chats and about 1 message/s per chat, each allowing a short burst. Off by default.
// Sends and edits both count (Telegram floods edits the same way); callback answers never do.

export interface RateLimitOptions {
  /** Sustained messages per second across all chats (Telegram: about 30). */
  globalPerSecond?: number;
  /** Messages that may go out at once across all chats before the sustained rate applies. */
  globalBurst?: number;
  /** Sustained messages per second to one chat (Telegram: about 1). */
  perChatPerSecond?: number;
  /** Messages that may go to one chat at once. */
  perChatBurst?: number;
  /** Count edits (editMessageText, editMessageReplyMarkup) as well as sends (default true, as Telegram). */
  countEdits?: boolean;
}

export const DEFAULT_RATE_LIMIT: Required<RateLimitOptions> = {
  globalPerSecond: 30,
  globalBurst: 30,
  perChatPerSecond: 1,
  perChatBurst: 3,
  countEdits: true,
};

/** How a sandbox is told to limit: "telegram" (or true) = Telegram's limits, or custom numbers. */
export type RateLimitSetting = boolean | "telegram" | "off" | RateLimitOptions;

/** The limiter for a setting, or undefined when sends are not limited. */
export function rateLimiterFor(setting: RateLimitSetting | undefined): RateLimiter | undefined {
  if (!setting || setting === "off") return undefined;
  if (setting === true || setting === "telegram") return new RateLimiter();
  if (typeof setting === "string") throw new Error(`rate limit "${setting}" is unknown: use "telegram" or "off"`);
  return new RateLimiter(setting);
}

interface Bucket {
  tokens: number;
  at: number; // ms, performance.now() of the last refill
}

export class RateLimiter {
  readonly opts: Required<RateLimitOptions>;
  private readonly global = new Map<number, Bucket>();
  private readonly perChat = new Map<number, Map<number, Bucket>>();

  constructor(opts: RateLimitOptions = {}) {
    this.opts = { ...DEFAULT_RATE_LIMIT, ...opts };
  }

  /**
   * Take one message from both of the bot's buckets. Returns 0 when it may go out, else how many
   * whole seconds to wait (Telegram's retry_after); nothing is taken when it may not.
   */
  take(botId: number, chatId: number, now = performance.now()): number {
    const o = this.opts;
    const g = refill(bucket(this.global, botId, o.globalBurst, now), o.globalPerSecond, o.globalBurst, now);
    let chats = this.perChat.get(botId);
    if (!chats) this.perChat.set(botId, (chats = new Map()));
    const c = refill(bucket(chats, chatId, o.perChatBurst, now), o.perChatPerSecond, o.perChatBurst, now);
    if (g.tokens >= 1 && c.tokens >= 1) {
      g.tokens -= 1;
      c.tokens -= 1;
      return 0;
    }
    const waitG = g.tokens >= 1 ? 0 : (1 - g.tokens) / o.globalPerSecond;
    const waitC = c.tokens >= 1 ? 0 : (1 - c.tokens) / o.perChatPerSecond;
    return Math.max(1, Math.ceil(Math.max(waitG, waitC)));
  }
}

function bucket(map: Map<number, Bucket>, key: number, burst: number, now: number): Bucket {
  let b = map.get(key);
  if (!b) map.set(key, (b = { tokens: burst, at: now }));
  return b;
}

function refill(b: Bucket, perSecond: number, burst: number, now: number): Bucket {
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
  b.at = now;
  return b;
}
