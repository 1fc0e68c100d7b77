// Telegram's send limits as the sandbox applies them, on a clock the test moves by hand.

import { expect, test } from "bun:test";
import { RateLimiter, rateLimiterFor } from "../../sandbox/ratelimit.ts";

const BOT = 1;

test("a chat gets a burst of 3, then 1 message per second; retry_after says how long", () => {
  const limiter = rateLimiterFor("telegram")!;
  expect([0, 0, 0].map(() => limiter.take(BOT, 10, 0))).toEqual([0, 0, 0]);
  expect(limiter.take(BOT, 10, 0)).toBe(1);
  expect(limiter.take(BOT, 10, 500)).toBe(1); // half a token: still wait, nothing taken
  expect(limiter.take(BOT, 10, 1000)).toBe(0);
  expect(limiter.take(BOT, 10, 1000)).toBe(1);
  expect(limiter.take(BOT, 11, 1000)).toBe(0); // another chat has its own budget
});

test("the bot as a whole gets 30 per second across chats", () => {
  const limiter = new RateLimiter();
  const chats = Array.from({ length: 40 }, (_, i) => 100 + i);
  const at0 = chats.map((c) => limiter.take(BOT, c, 0));
  expect(at0.filter((w) => w === 0)).toHaveLength(30);
  expect(at0.slice(30)).toEqual(Array(10).fill(1));
  const halfSecondLater = chats.slice(30).map((c) => limiter.take(BOT, c, 500));
  expect(halfSecondLater.filter((w) => w === 0)).toHaveLength(10); // 15 tokens refilled
  expect(limiter.take(2, 100, 500)).toBe(0); // another bot is not affected
});

test("settings: off, telegram, true and numbers", () => {
  expect(rateLimiterFor(undefined)).toBeUndefined();
  expect(rateLimiterFor(false)).toBeUndefined();
  expect(rateLimiterFor("off")).toBeUndefined();
  expect(rateLimiterFor("telegram")!.opts).toEqual({ globalPerSecond: 30, globalBurst: 30, perChatPerSecond: 1, perChatBurst: 3, countEdits: true });
  expect(rateLimiterFor(true)!.opts).toEqual(rateLimiterFor("telegram")!.opts);
  expect(rateLimiterFor({ perChatBurst: 1, countEdits: false })!.opts).toMatchObject({ perChatBurst: 1, countEdits: false, globalPerSecond: 30 });
  expect(() => rateLimiterFor("fast" as never)).toThrow('rate limit "fast" is unknown');
});
