// Assembles the bot: database, transports, gramio long polling, routes, the send queue and the
// daily opening. bot.ts runs it; tests and the benchmark run it in-process against a sandbox.

import { TelegramError, type User } from "gramio";
import { BotDb, type TransportSeed } from "../db.ts";
import type { Logger } from "../log.ts";
import { systemTimeZone } from "../timing.ts";
import { configProblem, loadTransports, type BotConfig } from "./config.ts";
import { Handlers, TEST_RUN_TTL_MS, type From } from "./handlers.ts";
import { parseAction } from "./keyboards.ts";
import { Calendar, DailyOpening, WallAnchoredClock } from "./opening.ts";
import { Sender, TELEGRAM_LIMITS, type SendLimits } from "./sender.ts";
import { telegramBot } from "./telegram.ts";

// `transports` replace TRANSPORTS_FILE; `limits` sets per-chat pacing and bursts (the config, the rest); the long
// poll times out after `pollTimeoutS` (25) and counts as hung `pollMarginMs` (5,000) later.
export type StartDeps = { log: Logger; transports?: TransportSeed[]; limits?: Partial<SendLimits>; pollTimeoutS?: number; pollMarginMs?: number };
export type RunningBot = Awaited<ReturnType<typeof startBot>>;

export async function startBot(config: BotConfig, deps: StartDeps) {
  if (!config.BOT_TOKEN) throw new Error("startBot needs a token: without BOT_TOKEN, bot.ts starts the sandbox and passes its token");
  const { log, pollTimeoutS = 25 } = deps;
  const seed = deps.transports ?? loadTransports(config.TRANSPORTS_FILE);
  let db: BotDb;
  try {
    db = new BotDb(config.DB_PATH);
  } catch (e) {
    throw configProblem("DB_PATH", config.DB_PATH, `cannot open the database (${(e as Error).message}); expected a file in a directory the bot can write, e.g. DB_PATH=bot.db`);
  }
  const clock = new WallAnchoredClock();
  const now = clock.now;
  const abandoned = db.abandonStaleRuns(now() - TEST_RUN_TTL_MS);
  if (abandoned) log.info("test_runs_abandoned", { count: abandoned });

  const tg = telegramBot(config.BOT_TOKEN, config.BOT_API_URL, log, pollTimeoutS, deps.pollMarginMs ?? 5_000);
  const bot = tg.bot;
  const limits = { ...TELEGRAM_LIMITS, chatPerS: config.CHAT_RATE_PER_S, ...deps.limits, perS: config.SEND_RATE_PER_S, broadcastPerS: config.BROADCAST_RATE_PER_S };
  const sender = new Sender(bot.api, log, limits, (userId) => h.blocked(userId));
  const timeZone = config.TZ ?? systemTimeZone();
  const opening = new DailyOpening(db, new Calendar(config.BOOKING_TIME, timeZone), seed, log, clock, sender);
  const h = new Handlers(db, sender, log, opening, seed, now, config);

  /** The sender of an update, stamped on arrival (before any other work). */
  const from = (u: User, chatId = u.id, messageId?: number): From => {
    const f = { userId: u.id, chatId, firstName: u.firstName, username: u.username, at: now(), messageId };
    h.touchUser(f);
    return f;
  };
  const message = (handle: (f: From, text: string) => void) => (ctx: { from?: User; chatId: number; text?: string }) => {
    if (ctx.from) handle(from(ctx.from, ctx.chatId), ctx.text ?? "");
  };
  bot.command(["start", "menu"], message((f) => h.showMenu(f)));
  for (const c of ["admin", "admin_stats", "admin_test_stats"] as const) bot.command(c, message((f) => h.admin(f, c)));
  bot.on("message", message((f, text) => h.onText(f, text)));
  // Every press is answered at once (not through the send queue: an answer is no message), exactly
  // once; a booking's answer carries its result.
  bot.on("callback_query", (ctx) => {
    const f = from(ctx.from, ctx.message?.chat.id, ctx.message?.id);
    const action = parseAction(ctx.data);
    const toast = action ? h.onAction(f, action) : h.staleButton(f, ctx.data);
    const answered = ctx.answer({ text: toast?.text, show_alert: toast?.alert });
    answered.catch((e: Error) => log.warn("answer_callback_failed", { query_id: ctx.id, error: e.message }));
  });
  bot.onError(({ error, kind }) => log.error("update_error", { kind, error: error as Error }));

  // The spec's start order: database and transports, the scheduler, then the long poll. getMe (bot.init)
  // comes first so that a rejected token stops start-up before anything opens or is announced.
  try {
    await bot.init();
  } catch (e) {
    db.close();
    const code = e instanceof TelegramError ? e.code : undefined;
    if (code === 401 || code === 404) throw new Error(`BOT_TOKEN was rejected by the Bot API at ${config.BOT_API_URL}: check it with @BotFather`);
    throw new Error(`cannot reach the Bot API at ${config.BOT_API_URL} (BOT_API_URL): ${(e as Error).message}`);
  }
  h.resendUntold(now() - 86_400_000, now());
  opening.start();
  const info = await bot.start({ longPolling: { timeout: pollTimeoutS } });
  const username = info.username ?? "";
  const opens = `${config.BOOKING_TIME} (${timeZone})`;
  log.info("bot_started", { username, bot_api: config.BOT_API_URL, booking_time: opens, send_rate_per_s: limits.perS, ui: config.BOT_UI, db: config.DB_PATH }, `Bot @${username} is polling ${config.BOT_API_URL}; booking opens daily at ${opens}`);

  let stopped: Promise<void> | undefined;
  return {
    db,
    config,
    sender,
    broadcastIdle: () => opening.broadcasts,
    stop(): Promise<void> {
      stopped ??= (async () => {
        const t0 = Date.now();
        opening.stop();
        tg.stopPolling();
        await bot.stop(1_000);
        h.stopTests();
        await sender.stop(3_000);
        tg.abortSends();
        await opening.broadcasts;
        db.close();
        log.info("bot_stopped", { ms: Date.now() - t0, ...sender.counts });
        await log.flush();
      })();
      return stopped;
    },
  };
}
