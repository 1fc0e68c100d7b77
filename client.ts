// The auto-booking client: a userbot on your own Telegram account (or a sandbox account) that
// watches the booking bot and books the best matching transport the moment booking opens.
//
//   bun client.ts --mode immediate|scheduled [--config PATH]
//   bun client.ts --login | --check [--config PATH]
//
// Exit codes: 0 booked / check passed, 1 not booked / a check failed, 2 bad config or arguments,
// 130 interrupted.

import "./lib/gramjs-prelude.ts";
import { ConfigError, loadClientConfig, type ClientConfig } from "./lib/client-config.ts";
import { parseArgs, USAGE, UsageError, type ClientArgs } from "./lib/client/args.ts";
import type { BookingOutcome } from "./lib/client/booker.ts";
import { runCheck } from "./lib/client/check.ts";
import { sandboxPhone } from "./lib/client/connect.ts";
import { login } from "./lib/client/login.ts";
import { runImmediate, runScheduled, type RunContext } from "./lib/client/modes.ts";
import { notify } from "./lib/client/notify.ts";
import { attemptDetails, attemptReport } from "./lib/client/stats-block.ts";
import { createLogger, type Logger } from "./lib/log.ts";

const out = (line: string) => console.log(line);
const err = (line: string) => console.error(line);

let shutdown: ((code: number) => Promise<never>) | undefined;

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
  if (args.check) return runCheck(args.config, out);

  let cfg: ClientConfig;
  try {
    cfg = loadClientConfig(args.config);
    if (args.mode === "scheduled" && !cfg.booking.targetTime) {
      throw new ConfigError(cfg.source, "booking.target_time", "required key is missing for --mode scheduled", 'target_time: "11:30:00"');
    }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`config error: ${e.message}`);
    return 2;
  }

  if (cfg.usesSandbox) {
    out(`sandbox mode: no Telegram credentials in ${cfg.source}; using the sandbox at ${cfg.sandbox.url} as ${sandboxPhone(cfg)}`);
  }
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
    if (controller.signal.aborted) return 130;
    const message = (e as Error).message ?? String(e);
    err(`error: ${message}`);
    log.error("client_error", { mode: args.mode, error: message });
    await close(ctx, log);
    return 1;
  }
  if (outcome.cancelled) return 130;

  out(attemptReport(outcome));
  if (outcome.ok) log.info("booking_attempt", attemptDetails(outcome, args.mode!), outcome.result?.outcome === "booked" ? "booked" : "already booked");
  else log.warn("booking_failed", attemptDetails(outcome, args.mode!), outcome.failure);
  for (const p of await notify(ctx.res.tg, cfg, outcome)) out(`warning: ${p}`);
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
  let stopping = false;
  shutdown = async (code: number) => {
    await close(ctx, log);
    process.exit(code);
  };
  process.on("SIGINT", () => {
    if (stopping) process.exit(130);
    stopping = true;
    out("\ninterrupted: disconnecting (Ctrl+C again to quit at once)");
    log.info("client_interrupted", {});
    controller.abort(new Error("interrupted"));
    void shutdown?.(130);
  });
}

main().then(
  async (code) => {
    if (shutdown && code === 130) return; // the SIGINT handler exits
    process.exit(code);
  },
  (e) => {
    err(`error: ${(e as Error)?.message ?? String(e)}`);
    process.exit(1);
  },
);
