// Immediate (wait for the announcement) and scheduled (ready before the opening, firing at the
// instant on the server's clock).

import type { TelegramClient } from "./gramjs/prelude.ts";
import { looksLikeOurBot, type ClientConfig } from "./config.ts";
import type { Logger } from "../log.ts";
import { percentile } from "../percentile.ts";
import { formatCountdown, nextDailyInstant, nowMs, sleepUntil, systemTimeZone } from "../timing.ts";
import { BUTTON } from "../ui.ts";
import { prepareBooker, type Booker, type BookerOptions, type BookingOutcome } from "./booker.ts";
import { describeOffset, measureClockOffset, type ClockOffset } from "./clock-sync.ts";
import { obtainSession, openClient } from "./connect.ts";

export interface RunContext {
  cfg: ClientConfig;
  log: Logger;
  out: (line: string) => void;
  signal: AbortSignal;
  /** filled in as they come up, so that Ctrl+C can close them */
  res: { tg?: TelegramClient; booker?: Booker };
}

const PREPARE_BEFORE_MS = 60_000;
const WARM_UP_BEFORE_MS = 50_000;
const INTENSE_BEFORE_MS = 10_000;
const FINAL_COUNTDOWN_S = [45, 30, 20, 5, 3, 2];

/** Everything up to watching; no retry waits past `deadline` (nowMs). */
export async function prepare(ctx: RunContext, deadline?: number): Promise<Booker> {
  const { cfg, log, out } = ctx;
  const { polling_interval_ms: pollingIntervalMs, max_retries: maxRetries, connection_timeout: timeoutS } = cfg.performance;
  const started = performance.now();
  const s = await obtainSession(cfg);
  ctx.res.tg = await openClient(cfg, s.session);
  const options: BookerOptions = {
    botUsername: cfg.bot.username,
    flow: { targets: cfg.targets, texts: cfg.texts, maxRetries, retryDelayMs: pollingIntervalMs, notOpenWindowMs: timeoutS * 1000 },
    pollingIntervalMs,
    stageTimeoutMs: timeoutS * 1000,
    onNote: (n) => {
      log[n.level](n.atMs === undefined ? "prepare_retry" : "booking_note", { kind: n.kind, at_ms: n.atMs }, n.message);
      out(`${{ info: "note", warn: "warning", error: "error" }[n.level]}: ${n.message}`);
    },
  };
  const booker = await prepareBooker(ctx.res.tg, options, { deadline, signal: ctx.signal });
  ctx.res.booker = booker;
  const ms = performance.now() - started;
  out(`connected to ${s.describe}; @${cfg.bot.username} resolved (id ${booker.botId}) in ${ms.toFixed(0)} ms`);
  log.info("client_ready", { telegram: cfg.usesSandbox ? "sandbox" : "telegram", user_id: booker.selfId, bot_id: booker.botId, prepare_ms: Number(ms.toFixed(1)) });
  return booker;
}

const watchingLine = (cfg: ClientConfig, booker: Booker, extra: string) => `watching @${cfg.bot.username} for the announcement as user ${booker.selfId}${extra}`;

export async function runImmediate(ctx: RunContext): Promise<BookingOutcome> {
  const booker = await prepare(ctx);
  const since = performance.now();
  const heartbeat = setInterval(() => {
    if (booker.busy) ctx.out(`still watching for the announcement (${formatCountdown(performance.now() - since)})`);
  }, 60_000);
  try {
    return await booker.book({
      signal: ctx.signal,
      onWatching: () => ctx.out(watchingLine(ctx.cfg, booker, looksLikeOurBot(ctx.cfg) ? ` (press ${BUTTON.test} in the bot to rehearse)` : "")),
    });
  } finally {
    clearInterval(heartbeat);
  }
}

/** Shows the time left until `untilMs`: every second on a terminal, every minute otherwise. */
async function countdown(untilMs: number, label: string, ctx: RunContext): Promise<void> {
  const tty = Boolean(process.stdout.isTTY);
  const step = tty ? 1000 : 60_000;
  let last = "";
  for (;;) {
    const left = untilMs - nowMs();
    if (left <= 0) break;
    const text = `${label} in ${formatCountdown(left)}`;
    if (tty) process.stdout.write(`\r${text}   `);
    else if (text !== last) ctx.out(text);
    last = text;
    await sleepUntil(Math.min(untilMs, nowMs() + (left % step || step)), ctx.signal);
  }
  if (tty) process.stdout.write("\r\x1b[K");
}

export async function runScheduled(ctx: RunContext): Promise<BookingOutcome> {
  const { cfg, log, out } = ctx;
  const t = cfg.booking.target_time!;
  const tz = cfg.booking.timezone ?? systemTimeZone();
  const target = nextDailyInstant(t, nowMs(), tz);
  const left = target - nowMs();
  out(`booking opens at ${t} (${tz}), in ${formatCountdown(left)}; preparing ${PREPARE_BEFORE_MS / 1000} s before`);
  if (left > PREPARE_BEFORE_MS) await countdown(target - PREPARE_BEFORE_MS, "preparing", ctx);
  else out(`less than ${PREPARE_BEFORE_MS / 1000} s to go: preparing at once`);

  const booker = await prepare(ctx, target);
  let offset: ClockOffset | undefined;
  try {
    offset = await measureClockOffset(ctx.res.tg!);
    out(`clock: server − local ${describeOffset(offset)}`);
    log.info("clock_offset", { offset_ms: Number(offset.offsetMs.toFixed(2)), rtt_ms: Number(offset.rttMs.toFixed(2)), samples: offset.samples.length });
  } catch (e) {
    out(`warning: could not measure the server's clock (${(e as Error).message}); using the local clock`);
    log.warn("clock_offset_failed", { error: (e as Error).message });
  }
  // The T+0 request must reach the server at T: fire one typical one-way trip early (half the
  // median round trip; the best sample's, which the offset rightly uses, underestimates it).
  const trigger = target - (offset ? offset.offsetMs + percentile(offset.samples.map((s) => s.rttMs), 50) / 2 : 0);

  const timers: ReturnType<typeof setTimeout>[] = [];
  const outcome = booker.book({
    trigger,
    pollWindowMs: INTENSE_BEFORE_MS,
    signal: ctx.signal,
    onWatching: () => {
      out(watchingLine(cfg, booker, `; firing at ${t} server time`));
      const before = (ms: number, fn: () => void) => timers.push(setTimeout(fn, Math.max(0, trigger - ms - nowMs())));
      // The warm-up /start (the bot learns about us, the connection is warm); the flow ignores its reply.
      if (trigger - nowMs() > 1000) {
        before(WARM_UP_BEFORE_MS, () => booker.sendStart().then(() => out("warm-up /start sent"), (e) => out(`warning: the warm-up /start failed: ${(e as Error).message}`)));
      }
      before(INTENSE_BEFORE_MS, () => out(`watching intensely: history check every ${cfg.performance.polling_interval_ms} ms as a fallback`));
      // The last minute is not silent; nothing is printed in the final second.
      for (const s of FINAL_COUNTDOWN_S) if (trigger - s * 1000 > nowMs()) before(s * 1000, () => out(`opening in ${s} s`));
    },
  });
  try {
    return await outcome;
  } finally {
    for (const x of timers) clearTimeout(x);
  }
}
