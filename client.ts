// The auto-booking client: a userbot on your own Telegram account (or a sandbox account) that
// watches the booking bot and books the best matching transport the moment booking opens.
//
//   bun client.ts --mode immediate|scheduled [--config PATH]
//   bun client.ts --login | --check [--config PATH]
//
// Exit codes: 0 booked / check passed, 1 not booked / a check failed, 2 bad config or arguments,
// 130 interrupted (Ctrl+C), 143 terminated (SIGTERM).

import "./lib/client/gramjs/prelude.ts";
import { loadClientConfig, type ClientConfig } from "./lib/client/config.ts";
import { ConfigError } from "./lib/settings.ts";
import { parseArgs, USAGE, UsageError, type ClientArgs } from "./lib/client/args.ts";
import type { BookingOutcome } from "./lib/client/booker.ts";
import { runCheck } from "./lib/client/check.ts";
import { sandboxPhone } from "./lib/client/connect.ts";
import { runInspect } from "./lib/client/inspect.ts";
import { login } from "./lib/client/login.ts";
import { runImmediate, runScheduled, type RunContext } from "./lib/client/modes.ts";
import { notify } from "./lib/client/notify.ts";
import { attemptDetails, attemptReport, resultOf } from "./lib/client/stats-block.ts";
import { createLogger, type Logger } from "./lib/log.ts";

const out = (line: string) => console.log(line);
const err = (line: string) => console.error(line);

/** The exit code of the signal that stopped the run (130 SIGINT, 143 SIGTERM). */
let stoppedWith: number | undefined;

async function main(): Promise<number> {
  let args: ClientArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`error: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    out(USAGE);
    return 0;
  }
  if (args.check) {
    const log = createLogger({ dir: process.env.LOG_DIR ?? "logs", name: "booking_client" });
    const onPing = (p: { median: number; worst: number }, offsetMs: number) =>
      log.info("check_ping", { rtt_median_ms: Number(p.median.toFixed(2)), rtt_worst_ms: Number(p.worst.toFixed(2)), clock_offset_ms: Number(offsetMs.toFixed(2)) });
    const code = await runCheck(args.config, out, onPing);
    await log.close();
    return code;
  }

  let cfg: ClientConfig;
  try {
    cfg = loadClientConfig(args.config);
    if (args.mode === "scheduled" && !cfg.booking.targetTime) {
      throw new ConfigError([{ path: "booking.target_time", text: `${cfg.source}: booking.target_time: required key is missing for --mode scheduled. Example: target_time: "11:30:00"` }]);
    }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`config error: ${e.message}`);
    return 2;
  }

  if (cfg.usesSandbox) {
    out(`sandbox mode: no Telegram credentials in ${cfg.source}; using the sandbox at ${cfg.sandbox.url} as ${sandboxPhone(cfg)}`);
  }
  if (args.inspect) return runInspect(cfg, args.start, out);
  if (args.login) {
    // In the sandbox too: the same login as with Telegram (key exchange, code, session file).
    await login(cfg, out);
    return 0;
  }

  const log = createLogger({ dir: process.env.LOG_DIR ?? "logs", name: "booking_client" });
  const controller = new AbortController();
  const ctx: RunContext = { cfg, log, out, signal: controller.signal, res: {} };
  installShutdown(ctx, log, controller);
  log.info("client_start", { mode: args.mode, telegram: cfg.usesSandbox ? "sandbox" : "telegram", bot: cfg.bot.username, targets: cfg.targets.length });

  let outcome: BookingOutcome;
  try {
    outcome = args.mode === "scheduled" ? await runScheduled(ctx) : await runImmediate(ctx);
  } catch (e) {
    if (controller.signal.aborted) return stoppedWith!;
    const message = (e as Error).message ?? String(e);
    err(`error: ${message}`);
    log.error("client_error", { mode: args.mode, error: message });
    await close(ctx, log);
    return 1;
  }
  if (outcome.cancelled) return stoppedWith ?? 130;

  out(attemptReport(outcome));
  if (outcome.ok) log.info("booking_attempt", attemptDetails(outcome, args.mode!), outcome.result?.outcome === "booked" ? "booked" : "already booked");
  else log.warn("booking_failed", attemptDetails(outcome, args.mode!), `${outcome.failure}${outcome.stage ? ` (${outcome.stage})` : ""}`);
  for (const p of await notify(ctx.res.tg, cfg, outcome)) out(`warning: ${p}`);
  out(resultOf(outcome));
  await close(ctx, log);
  return outcome.ok ? 0 : 1;
}

async function close(ctx: RunContext, log: Logger): Promise<void> {
  ctx.res.booker?.close();
  const tg = ctx.res.tg;
  ctx.res.tg = undefined;
  // gramjs's destroy can hang on a dead connection: give it a moment, then move on.
  if (tg) await Promise.race([tg.destroy().catch(() => {}), Bun.sleep(2000)]);
  await log.close();
}

function installShutdown(ctx: RunContext, log: Logger, controller: AbortController): void {
  const stop = (signal: "SIGINT" | "SIGTERM", code: number) => {
    if (stoppedWith !== undefined) process.exit(stoppedWith);
    stoppedWith = code;
    out(signal === "SIGINT" ? "\ninterrupted: disconnecting (Ctrl+C again to quit at once)" : "\nterminated (SIGTERM): disconnecting");
    log.info("client_interrupted", { signal });
    controller.abort(new Error(signal === "SIGINT" ? "interrupted" : "terminated"));
    void close(ctx, log).then(() => process.exit(code));
  };
  process.on("SIGINT", () => stop("SIGINT", 130));
  process.on("SIGTERM", () => stop("SIGTERM", 143));
}

main().then(
  (code) => {
    if (stoppedWith === undefined) process.exit(code); // else the signal handler exits
  },
  (e) => {
    err(`error: ${(e as Error)?.message ?? String(e)}`);
    process.exit(1);
  },
);
