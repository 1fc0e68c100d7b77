// The daily announcement to many users. The users are put straight into the sandbox (each has a
// chat with the bot) and into the bot's database before it starts; BOOKING_TIME has passed, so
// the bot opens the day and broadcasts at start-up.
//  - throughput: the sandbox's rate limit off, the bot's pacing lifted above what BROADCAST_RATE_PER_S
//    allows (max 1000/s) so that the figure is the bot's capacity, not its configured pace;
//  - 429s: the sandbox's limiter on and the bot sending faster than it allows: every user must
//    still get exactly one announcement. 429s are counted on the wire (a fetch wrapper in this
//    process) and compared with the retries the bot logged.

import { BotDb } from "../lib/db.ts";
import { TEXT } from "../lib/ui.ts";
import type { Sandbox } from "../sandbox/index.ts";
import type { RateLimitOptions } from "../sandbox/ratelimit.ts";
import { BENCH_BOT, startRig } from "./rig.ts";
import { progress, round } from "./stats.ts";

export interface BroadcastRun {
  users: number;
  bot_rate_per_s: number;
  sandbox_limit: RateLimitOptions | null;
  delivered_once: number;
  missing: number;
  duplicates: number;
  messages_per_s: number;
  ms: number;
  http_429: number;
  retried_429: number;
  failed: number;
}

export async function benchBroadcast(users: number, opts: { botRatePerS: number; limit?: RateLimitOptions }): Promise<BroadcastRun> {
  const seed = (sb: Sandbox, dbPath: string) => {
    const world = sb.world;
    const bot = world.botByUsername(BENCH_BOT.username)!;
    const db = new BotDb(dbPath);
    const now = Date.now();
    const ids: number[] = [];
    for (let i = 0; i < users; i++) {
      const u = world.createUser({ first_name: `Listener ${i}` });
      world.userSends(u.id, bot.id, "/start"); // the chat exists: the bot may write first now
      ids.push(u.id);
    }
    bot.updates.length = 0; // the bot learns them from its database, not from 10 000 /starts
    for (const id of ids) db.upsertUser(id, `Listener ${id}`, undefined, now);
    db.close();
    return new Set(ids);
  };

  let audience = new Set<number>();
  const got = new Map<number, number>();
  let first = Infinity;
  let last = 0;
  let retried = 0;
  let failed = 0;
  let http429 = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = Object.assign(async (input: string | URL | Request, init?: RequestInit) => {
    const res = await realFetch(input, init);
    if (res.status === 429) http429++;
    return res;
  }, realFetch);
  try {
    const rig = await startRig({
      env: { BOOKING_TIME: "00:00:00", TEST_MODE_ENABLED: "false" },
      config: { BROADCAST_RATE_PER_S: opts.botRatePerS },
      sandbox: { rateLimit: opts.limit ?? false },
      onLog: (action, d) => {
        if (action === "send_rate_limited") retried++;
        if (action === "broadcast_send_failed") failed++;
        void d;
      },
      beforeBot: (sb, config) => {
        audience = seed(sb, config.DB_PATH);
        sb.world.observe((e) => {
          if (e.type !== "botMessage" || e.message.text !== TEXT.announcement) return;
          got.set(e.message.userId, (got.get(e.message.userId) ?? 0) + 1);
          first = Math.min(first, e.ts);
          last = Math.max(last, e.ts);
        });
        progress(`broadcast: ${users} users, bot pacing ${opts.botRatePerS}/s, sandbox limit ${opts.limit ? JSON.stringify(opts.limit) : "off"}`);
      },
    });
    try {
      await rig.bot.broadcastIdle();
    } finally {
      await rig.close();
    }
  } finally {
    globalThis.fetch = realFetch;
  }
  let once = 0;
  let dupes = 0;
  for (const id of audience) {
    const n = got.get(id) ?? 0;
    if (n === 1) once++;
    if (n > 1) dupes++;
  }
  const ms = last - first;
  return {
    users,
    bot_rate_per_s: opts.botRatePerS,
    sandbox_limit: opts.limit ?? null,
    delivered_once: once,
    missing: users - once - dupes,
    duplicates: dupes,
    messages_per_s: round(ms > 0 ? (once / ms) * 1000 : 0, 0),
    ms: round(ms, 1),
    http_429: http429,
    retried_429: retried,
    failed,
  };
}

if (import.meta.main) {
  console.log(await benchBroadcast(10_000, { botRatePerS: 100_000 }));
  console.log(await benchBroadcast(2_000, { botRatePerS: 2_000, limit: { globalPerSecond: 1_000, globalBurst: 100 } }));
}
