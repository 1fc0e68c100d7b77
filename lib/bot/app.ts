// Assembles the bot: database, transports, gramio long polling, handlers, daily opening and
// broadcast. `startBot` is what bot.ts runs and what tests run in-process against a sandbox.

import { Bot } from "gramio";
import { openDb, type BotDb, type TransportSeed } from "../db.ts";
import { createLogger, type Logger } from "../log.ts";
import { formatDailyTime, systemTimeZone } from "../timing.ts";
import { TEXT, hhmm } from "../ui.ts";
import { Broadcaster } from "./broadcast.ts";
import { Calendar } from "./calendar.ts";
import { ConfigError, type BotConfig } from "./config.ts";
import { Handlers } from "./handlers.ts";
import type { BotIO } from "./io.ts";
import { UpdateMetrics, type TimingSummary } from "./metrics.ts";
import { DailyOpening, WallAnchoredClock } from "./opening.ts";
import { loadTransports } from "./seed.ts";
import { TEST_RUN_TTL_MS, TestMode } from "./test-mode.ts";

export interface StartDeps {
  /** Default: a logger writing `<LOG_DIR>/bot.log` and `bot_json.log`, echoing to the console. */
  log?: Logger;
  /** Default: the file at config.transportsPath. */
  transports?: TransportSeed[];
  /** Long-poll timeout in seconds (default 25). */
  pollTimeoutS?: number;
}

export interface RunningBot {
  username: string;
  db: BotDb;
  log: Logger;
  config: BotConfig;
  /** Synchronous handling time per update (parse, SQL, build the reply). */
  metrics(): TimingSummary;
  /** Resolves when no announcement broadcast is running. */
  broadcastIdle(): Promise<void>;
  /** Stops polling (aborting the long poll), lets handlers and sends finish, closes the DB. */
  stop(): Promise<void>;
}

interface RawUser {
  id: number;
  first_name: string;
  username?: string;
}

export async function startBot(config: BotConfig, deps: StartDeps = {}): Promise<RunningBot> {
  if (!config.token) throw new Error("startBot needs a token: without BOT_TOKEN, bot.ts starts the sandbox and passes its token");
  const ownLog = !deps.log;
  const log = deps.log ?? createLogger({ dir: config.logDir, name: "bot", console: true, minLevel: config.logLevel });
  const seed = deps.transports ?? loadTransports(config.transportsPath);
  let db: BotDb;
  try {
    db = openDb(config.dbPath);
  } catch (e) {
    if (ownLog) await log.close();
    throw new ConfigError([
      `DB_PATH=${JSON.stringify(config.dbPath)}: cannot open the database (${(e as Error).message}); ` +
        `expected a database file in a directory the bot can write, e.g. DB_PATH=bot.db`,
    ]);
  }
  // The bot's one clock: monotonic, re-anchored to the wall clock before each day's scheduling.
  const clock = new WallAnchoredClock();
  const now = clock.now;
  const abandoned = db.abandonStaleRuns(now() - TEST_RUN_TTL_MS);
  if (abandoned) log.info("test_runs_abandoned", { count: abandoned });

  // The long poll gets its own abort signal so stop() ends it at once; the other calls (replies,
  // the broadcast) must not be cut off by it. gramio spreads fetchOptions synchronously when a
  // call starts, so the getter below hands the signal to getUpdates only.
  const pollAbort = new AbortController();
  let polling = false;
  const fetchOptions = {
    get signal() {
      return polling ? pollAbort.signal : undefined;
    },
  } as RequestInit;
  const bot = new Bot(config.token, { api: { baseURL: `${config.botApiUrl}/bot`, fetchOptions } });
  bot.onApiCall("getUpdates", (_ctx, next) => {
    polling = true;
    let p: Promise<unknown>;
    try {
      p = next();
    } finally {
      polling = false;
    }
    return p.catch((e: unknown) => {
      if (pollAbort.signal.aborted) return [];
      throw e;
    }) as ReturnType<typeof next>;
  });

  const io: BotIO = {
    async sendOnce(chatId, text, keyboard) {
      const m = await bot.api.sendMessage({ chat_id: chatId, text, ...(keyboard ? { reply_markup: keyboard } : {}) });
      return m.message_id;
    },
    answer(queryId, text) {
      bot.api.answerCallbackQuery({ callback_query_id: queryId, ...(text ? { text } : {}) }).catch((e: unknown) =>
        log.warn("answer_callback_failed", { query_id: queryId, error: e as Error }),
      );
    },
  };

  const timeZone = config.timeZone ?? systemTimeZone();
  const calendar = new Calendar(config.bookingTime, timeZone);
  let handlers: Handlers | undefined;
  const broadcaster = new Broadcaster({
    db,
    io,
    log,
    ratePerS: config.broadcastRatePerS,
    text: TEXT.announcement,
    now,
    onBlocked: (id) => handlers?.forgetUser(id),
  });
  const opening = new DailyOpening({
    db,
    calendar,
    seed,
    log,
    now,
    reanchor: () => clock.reanchor(),
    onOpen: (day) => void broadcaster.run(day).catch((e) => log.error("broadcast_failed", { day, error: e as Error })),
  });
  const tests = new TestMode({ db, io, log, delayMs: config.testSmsDelayMs, seed, now });
  handlers = new Handlers({
    db,
    io,
    log,
    calendar,
    opening,
    tests,
    adminIds: config.adminIds,
    testModeEnabled: config.testModeEnabled,
    opensAt: hhmm(config.bookingTime),
  });
  const h = handlers;

  const metrics = new UpdateMetrics();
  const inFlight = new Set<Promise<void>>();
  const track = (run: () => Promise<void>, kind: string) => {
    const t0 = performance.now();
    const p = run();
    // Everything before the first await is our own work; the rest is waiting on the network.
    const ms = performance.now() - t0;
    metrics.record(ms);
    log.debug("update_handled", { kind, sync_ms: Number(ms.toFixed(3)) });
    const done = p.catch((e: unknown) => log.error("handler_failed", { kind, error: e as Error })).finally(() => inFlight.delete(done));
    inFlight.add(done);
    return done;
  };

  bot.use((ctx, next) => {
    const at = now();
    const u = (ctx as { update?: { message?: { chat: { id: number }; from?: RawUser; text?: string }; callback_query?: { id: string; from: RawUser; data?: string; message?: { chat: { id: number } } } } }).update;
    if (!u) return next();
    if (u.message?.from) {
      const m = u.message;
      const from = m.from!;
      return track(() => h.onText({ userId: from.id, chatId: m.chat.id, firstName: from.first_name, username: from.username, at, text: m.text ?? "" }), "message");
    }
    if (u.callback_query) {
      const q = u.callback_query;
      return track(
        () => h.onCallback({ userId: q.from.id, chatId: q.message?.chat.id ?? q.from.id, firstName: q.from.first_name, username: q.from.username, at, queryId: q.id, data: q.data }),
        "callback_query",
      );
    }
    return next();
  });
  bot.onError(({ error, kind }) => log.error("update_error", { kind, error: error as Error }));

  // The spec's start order: database and transports (above), the daily scheduler, then the long
  // poll. getMe (bot.init) comes first so that a rejected token stops start-up before the
  // scheduler opens a day or announces anything; bot.start() then reuses that info.
  let info;
  try {
    await bot.init();
    opening.start();
    info = await bot.start({ longPolling: { timeout: deps.pollTimeoutS ?? 25 } });
  } catch (e) {
    opening.stop();
    await broadcaster.stop();
    db.close();
    if (ownLog) await log.close();
    const code = (e as { code?: number }).code;
    if (code === 401 || code === 404) throw new Error(`BOT_TOKEN was rejected by the Bot API at ${config.botApiUrl}: check it with @BotFather`);
    throw new Error(`cannot reach the Bot API at ${config.botApiUrl} (BOT_API_URL): ${(e as Error).message}`);
  }
  const username = info.username ?? "";
  log.info("bot_started", {
    username,
    bot_api: config.botApiUrl,
    booking_time: formatDailyTime(config.bookingTime),
    time_zone: timeZone,
    test_mode: config.testModeEnabled,
    test_sms_delay_ms: config.testSmsDelayMs,
    broadcast_rate_per_s: config.broadcastRatePerS,
    db: config.dbPath,
    transports: seed.length,
    admins: config.adminIds.size,
  }, `Bot @${username} is polling ${config.botApiUrl}; booking opens daily at ${formatDailyTime(config.bookingTime)} (${timeZone})`);

  let stopped: Promise<void> | undefined;
  return {
    username,
    db,
    log,
    config,
    metrics: () => metrics.summary(),
    broadcastIdle: () => broadcaster.idle(),
    stop() {
      stopped ??= (async () => {
        opening.stop();
        pollAbort.abort();
        await bot.stop(5_000);
        await Promise.allSettled([broadcaster.stop(), tests.stop()]);
        while (inFlight.size) await Promise.allSettled([...inFlight]);
        db.close();
        const m = metrics.summary();
        log.info("bot_stopped", { updates: m.count, p50_ms: Number(m.p50Ms.toFixed(3)), p99_ms: Number(m.p99Ms.toFixed(3)) });
        if (ownLog) await log.close();
        else await log.flush();
      })();
      return stopped;
    },
  };
}
