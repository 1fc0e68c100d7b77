// Assembles the bot: database, transports, gramio long polling, routes, the send queue, the daily
// opening and broadcast. `startBot` is what bot.ts runs and what tests run in-process against a sandbox.

import { TelegramError } from "gramio";
import { openDb, type BotDb, type TransportSeed } from "../db.ts";
import type { Logger } from "../log.ts";
import { formatDailyTime, systemTimeZone } from "../timing.ts";
import { TEXT, hhmm } from "../ui.ts";
import { Broadcaster } from "./broadcast.ts";
import { configProblem, loadTransports, type BotConfig } from "./config.ts";
import { Handlers, type AdminCommand, type From } from "./handlers.ts";
import { ACTION, parseAction } from "./keyboards.ts";
import { Calendar, DailyOpening, WallAnchoredClock } from "./opening.ts";
import { Sender, TELEGRAM_LIMITS, type SendLimits } from "./sender.ts";
import { telegramBot } from "./telegram.ts";
import { TEST_RUN_TTL_MS, TestMode } from "./test-mode.ts";

export interface StartDeps {
  log: Logger;
  /** Default: the file at config.transportsPath. */
  transports?: TransportSeed[];
  /** Long-poll timeout in seconds (default 25). */
  pollTimeoutS?: number;
  /** Per-chat pacing and bursts (the global and broadcast rates come from the config). */
  limits?: Partial<SendLimits>;
  /** Timeout of every Bot API call but the long poll (default 10 s), and the poll's margin (default 5 s). */
  callTimeoutMs?: number;
  pollMarginMs?: number;
  /** How long stop() lets sends in flight finish (default 3 s). */
  stopGraceMs?: number;
}

export interface RunningBot {
  username: string;
  /** The bot's database (tests and tools ask it through its methods). */
  db: BotDb;
  config: BotConfig;
  sender: Sender;
  /** Resolves when no announcement broadcast is running. */
  broadcastIdle(): Promise<void>;
  /** Stops polling at once, gives sends in flight a bounded time, keeps what was not sent, closes the DB. */
  stop(): Promise<void>;
}

export async function startBot(config: BotConfig, deps: StartDeps): Promise<RunningBot> {
  if (!config.token) throw new Error("startBot needs a token: without BOT_TOKEN, bot.ts starts the sandbox and passes its token");
  const { log } = deps;
  const seed = deps.transports ?? loadTransports(config.transportsPath);
  let db: BotDb;
  try {
    db = openDb(config.dbPath);
  } catch (e) {
    throw configProblem("DB_PATH", config.dbPath, `cannot open the database (${(e as Error).message}); expected a file in a directory the bot can write, e.g. DB_PATH=bot.db`);
  }
  // The bot's one clock: monotonic, re-anchored to the wall clock before each day's scheduling.
  const clock = new WallAnchoredClock();
  const now = clock.now;
  const abandoned = db.abandonStaleRuns(now() - TEST_RUN_TTL_MS);
  if (abandoned) log.info("test_runs_abandoned", { count: abandoned });

  const pollTimeoutS = deps.pollTimeoutS ?? 25;
  const tg = telegramBot({ token: config.token, url: config.botApiUrl, log, pollTimeoutS, callTimeoutMs: deps.callTimeoutMs ?? 10_000, pollMarginMs: deps.pollMarginMs ?? 5_000 });
  const bot = tg.bot;
  let handlers: Handlers | undefined;
  const limits = { ...TELEGRAM_LIMITS, chatPerS: config.chatRatePerS, ...deps.limits, perS: config.sendRatePerS, broadcastPerS: config.broadcastRatePerS };
  const sender = new Sender(bot.api, log, limits, (userId) => {
    db.setInactive(userId);
    handlers?.forgetUser(userId);
  });
  const timeZone = config.timeZone ?? systemTimeZone();
  const calendar = new Calendar(config.bookingTime, timeZone);
  const broadcaster = new Broadcaster({ db, send: sender, log, text: TEXT.announcement, now });
  const opening = new DailyOpening({
    db,
    calendar,
    seed,
    log,
    now,
    reanchor: () => clock.reanchor(),
    onOpen: (day) => void broadcaster.run(day).catch((e) => log.error("broadcast_failed", { day, error: e as Error })),
  });
  const tests = new TestMode({ db, send: sender, log, delayMs: config.testSmsDelayMs, seed, now });
  const h = (handlers = new Handlers({
    db,
    send: sender,
    log,
    now,
    calendar,
    opening,
    tests,
    adminIds: config.adminIds,
    testModeEnabled: config.testModeEnabled,
    opensAt: hhmm(config.bookingTime),
    ui: config.ui,
  }));

  /** The sender of an update, stamped on arrival (before any other work). */
  type Raw = { from?: { id: number; first_name: string; username?: string }; chat?: { id: number }; message_id?: number };
  const from = (u: Raw): From | undefined => {
    if (!u.from) return undefined;
    const f: From = { userId: u.from.id, chatId: u.chat?.id ?? u.from.id, firstName: u.from.first_name, username: u.from.username, at: now(), messageId: u.message_id };
    h.touchUser(f);
    return f;
  };
  const command = (names: string[], run: (f: From) => void) =>
    bot.command(names, (ctx) => {
      const f = from({ from: ctx.payload.from, chat: ctx.payload.chat });
      if (f) run(f);
    });
  command(["start", "menu"], (f) => h.showMenu(f));
  for (const c of ["admin", "admin_stats", "admin_test_stats"] as const) command([c], (f) => h.admin(f, c));
  bot.on("message", (ctx) => {
    const f = from({ from: ctx.payload.from, chat: ctx.payload.chat });
    if (f) h.onText(f, ctx.payload.text ?? "");
  });
  // Every press is answered at once, exactly once; a booking's answer carries its result.
  bot.on("callback_query", (ctx, next) => {
    if (parseAction(ctx.payload.data)) return next();
    sender.answer(ctx.payload.id);
    const f = from({ from: ctx.payload.from, chat: ctx.payload.message?.chat });
    if (f) h.staleButton(f, ctx.payload.data);
  });
  for (const action of Object.values(ACTION)) {
    bot.callbackQuery(action, (ctx) => {
      const q = ctx.payload;
      const toast = h.onAction(from({ from: q.from, chat: q.message?.chat, message_id: q.message?.message_id })!, parseAction(q.data)!);
      sender.answer(q.id, toast?.text, toast?.alert);
    });
  }
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
  const told = h.resendUntold(now() - 86_400_000);
  if (told) log.info("untold_results_resent", { count: told }, `${told} booking result(s) not delivered before the last stop: sending them now`);
  opening.start();
  const info = await bot.start({ longPolling: { timeout: pollTimeoutS } });
  const username = info.username ?? "";
  log.info("bot_started", {
    username,
    bot_api: config.botApiUrl,
    booking_time: formatDailyTime(config.bookingTime),
    time_zone: timeZone,
    send_rate_per_s: limits.perS,
    ui: config.ui,
    db: config.dbPath,
  }, `Bot @${username} is polling ${config.botApiUrl}; booking opens daily at ${formatDailyTime(config.bookingTime)} (${timeZone})`);

  let stopped: Promise<void> | undefined;
  return {
    username,
    db,
    config,
    sender,
    broadcastIdle: () => broadcaster.idle(),
    stop() {
      stopped ??= (async () => {
        const t0 = Date.now();
        opening.stop();
        tests.stop();
        tg.stopPolling();
        await bot.stop(1_000);
        await sender.stop(t0 + (deps.stopGraceMs ?? 3_000));
        tg.abortSends();
        await broadcaster.idle();
        db.close();
        log.info("bot_stopped", { ms: Date.now() - t0, sent: sender.counts.sent, n429: sender.counts.n429, retried: sender.counts.retried, failed: sender.counts.failed });
        await log.flush();
      })();
      return stopped;
    },
  };
}
