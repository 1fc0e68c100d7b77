// Assembles the bot: database, transports, gramio long polling, routes, the send queue, the daily
// opening and broadcast. bot.ts runs it; tests and the benchmark run it in-process against a sandbox.

import { TelegramError } from "gramio";
import { BotDb, type TransportSeed } from "../db.ts";
import type { Logger } from "../log.ts";
import { formatDailyTime, systemTimeZone } from "../timing.ts";
import { announce } from "./broadcast.ts";
import { configProblem, loadTransports, type BotConfig } from "./config.ts";
import { Handlers, type From } from "./handlers.ts";
import { parseAction } from "./keyboards.ts";
import { Calendar, DailyOpening, WallAnchoredClock } from "./opening.ts";
import { Sender, TELEGRAM_LIMITS, type SendLimits } from "./sender.ts";
import { telegramBot } from "./telegram.ts";
import { TEST_RUN_TTL_MS, TestMode } from "./test-mode.ts";

/**
 * `transports`: instead of the file at config.transportsPath. `limits`: per-chat pacing and bursts (the
 * global and broadcast rates come from the config). `pollTimeoutS`, `pollMarginMs`: the long poll's
 * timeout (default 25 s) and how much longer it may take before it counts as hung (default 5 s).
 */
export type StartDeps = { log: Logger; transports?: TransportSeed[]; limits?: Partial<SendLimits>; pollTimeoutS?: number; pollMarginMs?: number };

export type RunningBot = Awaited<ReturnType<typeof startBot>>;

const STOP_GRACE_MS = 3_000;

export async function startBot(config: BotConfig, deps: StartDeps) {
  if (!config.token) throw new Error("startBot needs a token: without BOT_TOKEN, bot.ts starts the sandbox and passes its token");
  const { log } = deps;
  const seed = deps.transports ?? loadTransports(config.transportsPath);
  let db: BotDb;
  try {
    db = new BotDb(config.dbPath);
  } catch (e) {
    throw configProblem("DB_PATH", config.dbPath, `cannot open the database (${(e as Error).message}); expected a file in a directory the bot can write, e.g. DB_PATH=bot.db`);
  }
  // The bot's one clock: monotonic, re-anchored to the wall clock before each day's scheduling.
  const clock = new WallAnchoredClock();
  const now = clock.now;
  const abandoned = db.abandonStaleRuns(now() - TEST_RUN_TTL_MS);
  if (abandoned) log.info("test_runs_abandoned", { count: abandoned });

  const pollTimeoutS = deps.pollTimeoutS ?? 25;
  const tg = telegramBot(config.token, config.botApiUrl, log, pollTimeoutS, deps.pollMarginMs ?? 5_000);
  const bot = tg.bot;
  const limits = { ...TELEGRAM_LIMITS, chatPerS: config.chatRatePerS, ...deps.limits, perS: config.sendRatePerS, broadcastPerS: config.broadcastRatePerS };
  const sender = new Sender(bot.api, log, limits, (userId) => {
    db.setInactive(userId);
    h.forgetUser(userId);
  });
  const timeZone = config.timeZone ?? systemTimeZone();
  const calendar = new Calendar(config.bookingTime, timeZone);
  // The opening announces each day once per process; a broadcast may outlast midnight.
  let broadcasts = Promise.resolve();
  const onOpen = (day: string) => {
    const p = announce(db, sender, log, day).catch((e: Error) => log.error("broadcast_failed", { day, error: e }));
    broadcasts = Promise.all([broadcasts, p]).then(() => {});
  };
  const opening = new DailyOpening(db, calendar, seed, log, clock, onOpen);
  const tests = new TestMode(db, sender, log, now, config.testSmsDelayMs, seed);
  const h = new Handlers(db, sender, log, calendar, opening, tests, config);

  /** The sender of an update, stamped on arrival (before any other work). */
  const from = (u: { id: number; first_name: string; username?: string } | undefined, chatId?: number, messageId?: number): From | undefined => {
    if (!u) return undefined;
    const f: From = { userId: u.id, chatId: chatId ?? u.id, firstName: u.first_name, username: u.username, at: now(), messageId };
    h.touchUser(f);
    return f;
  };
  bot.command(["start", "menu"], (ctx) => {
    const f = from(ctx.payload.from, ctx.payload.chat.id);
    if (f) h.showMenu(f);
  });
  for (const c of ["admin", "admin_stats", "admin_test_stats"] as const) {
    bot.command(c, (ctx) => {
      const f = from(ctx.payload.from, ctx.payload.chat.id);
      if (f) h.admin(f, c);
    });
  }
  bot.on("message", (ctx) => {
    const f = from(ctx.payload.from, ctx.payload.chat.id);
    if (f) h.onText(f, ctx.payload.text ?? "");
  });
  // Every press is answered at once, exactly once; a booking's answer carries its result.
  bot.on("callback_query", (ctx) => {
    const q = ctx.payload;
    const f = from(q.from, q.message?.chat.id, q.message?.message_id)!;
    const action = parseAction(q.data);
    const toast = action ? h.onAction(f, action) : h.staleButton(f, q.data);
    sender.answer(q.id, toast?.text, toast?.alert);
  });
  bot.onError(({ error, kind }) => log.error("update_error", { kind, error: error as Error }));

  // The spec's start order: database and transports (above), the daily scheduler, then the long
  // poll. getMe (bot.init) comes first so that a rejected token stops start-up before the
  // scheduler opens a day or announces anything; bot.start() then reuses that info.
  try {
    await bot.init();
  } catch (e) {
    db.close();
    const code = e instanceof TelegramError ? e.code : undefined;
    if (code === 401 || code === 404) throw new Error(`BOT_TOKEN was rejected by the Bot API at ${config.botApiUrl}: check it with @BotFather`);
    throw new Error(`cannot reach the Bot API at ${config.botApiUrl} (BOT_API_URL): ${(e as Error).message}`);
  }
  const told = h.resendUntold(now() - 86_400_000, now());
  if (told) log.info("untold_results_resent", { count: told }, `${told} booking result(s) not delivered before the last stop: sending them now`);
  opening.start();
  const info = await bot.start({ longPolling: { timeout: pollTimeoutS } });
  const username = info.username ?? "";
  const opens = `${formatDailyTime(config.bookingTime)} (${timeZone})`;
  log.info("bot_started", { username, bot_api: config.botApiUrl, booking_time: opens, send_rate_per_s: limits.perS, ui: config.ui, db: config.dbPath }, `Bot @${username} is polling ${config.botApiUrl}; booking opens daily at ${opens}`);

  let stopped: Promise<void> | undefined;
  return {
    db,
    config,
    sender,
    /** Resolves when no announcement broadcast is running. */
    broadcastIdle: () => broadcasts,
    /** Stops polling at once, gives sends in flight a bounded time, keeps what was not sent, closes the DB. */
    stop(): Promise<void> {
      stopped ??= (async () => {
        const t0 = Date.now();
        opening.stop();
        tg.stopPolling();
        await bot.stop(1_000);
        tests.stop();
        await sender.stop(STOP_GRACE_MS);
        tg.abortSends();
        await broadcasts;
        db.close();
        log.info("bot_stopped", { ms: Date.now() - t0, ...sender.counts });
        await log.flush();
      })();
      return stopped;
    },
  };
}
