// The auto-booking client: a userbot on your own Telegram account (or a sandbox account) that
// watches the booking bot and books the best matching transport the moment booking opens.

import "./lib/client/gramjs/prelude.ts";
import { parseArgs } from "node:util";
import { loadClientConfig, type ClientConfig } from "./lib/client/config.ts";
import { ConfigError } from "./lib/settings.ts";
import type { BookingOutcome } from "./lib/client/booker.ts";
import { runCheck, runInspect } from "./lib/client/check.ts";
import { sandboxPhone } from "./lib/client/connect.ts";
import { login } from "./lib/client/login.ts";
import { runImmediate, runScheduled, type RunContext } from "./lib/client/modes.ts";
import { attemptDetails, attemptReport, notify, resultOf } from "./lib/client/report.ts";
import { createLogger } from "./lib/log.ts";

const USAGE = `Usage: bun client.ts --mode immediate|scheduled [--config PATH]
       bun client.ts --login [--config PATH]
       bun client.ts --check [--config PATH]
       bun client.ts --inspect [--start] [--config PATH]

  --mode immediate   connect, wait for the bot's announcement, book once, print the stats
  --mode scheduled   wait until 60 s before booking.target_time, prepare, and book at the opening
  --login            log in to Telegram and save the session (in the sandbox: fetch one)
  --check            check the config, session, connection, bot and clock, each with ✓/✗
  --inspect          show the bot's latest messages as the client reads them: which texts.* match,
                     which button it would press (pressing nothing); --start sends /start first
  --config PATH      the config file (default: config.yaml)
  --help             this text

Exit codes: 0 booked (or check passed), 1 not booked (or a check failed), 2 bad config or
arguments, 130 interrupted (Ctrl+C), 143 terminated (SIGTERM).`;

const out = (line: string) => console.log(line);
const err = (line: string) => console.error(line);
const openLog = () => createLogger({ dir: process.env.LOG_DIR ?? "logs", name: "booking_client" });

let stoppedWith: number | undefined; // the exit code of the signal that stopped the run

/** The arguments, or what is wrong with them. */
function readArgs(argv: string[]) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        mode: { type: "string" },
        config: { type: "string", default: "config.yaml" },
        login: { type: "boolean", default: false },
        check: { type: "boolean", default: false },
        inspect: { type: "boolean", default: false },
        start: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    return (e as Error).message.split("\n")[0]!;
  }
  const mode = values.mode as "immediate" | "scheduled" | undefined;
  if (mode !== undefined && mode !== "immediate" && mode !== "scheduled") return `--mode must be immediate or scheduled, not "${mode}"`;
  if (!values.help && [mode, values.login, values.check, values.inspect].filter(Boolean).length !== 1) {
    return "choose one of --mode immediate|scheduled, --login, --check or --inspect";
  }
  if (values.start && !values.inspect) return "--start goes with --inspect";
  return { ...values, mode };
}

async function main(): Promise<number> {
  const args = readArgs(process.argv.slice(2));
  if (typeof args === "string") {
    err(`error: ${args}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    out(USAGE);
    return 0;
  }
  if (args.check) {
    const log = openLog();
    const code = await runCheck(args.config, out, log);
    await log.close();
    return code;
  }

  let cfg: ClientConfig;
  try {
    cfg = loadClientConfig(args.config);
    if (args.mode === "scheduled" && !cfg.booking.target_time) {
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
    await login(cfg, out);
    return 0;
  }
  const mode = args.mode!;

  const log = openLog();
  const controller = new AbortController();
  const ctx: RunContext = { cfg, log, out, signal: controller.signal, res: {} };
  installShutdown(ctx, controller);
  log.info("client_start", { mode, telegram: cfg.usesSandbox ? "sandbox" : "telegram", bot: cfg.bot.username, targets: cfg.targets.length });

  let outcome: BookingOutcome;
  try {
    outcome = mode === "scheduled" ? await runScheduled(ctx) : await runImmediate(ctx);
  } catch (e) {
    if (controller.signal.aborted) return stoppedWith!;
    const message = (e as Error).message ?? String(e);
    err(`error: ${message}`);
    log.error("client_error", { mode, error: message });
    await close(ctx);
    return 1;
  }
  if (outcome.cancelled) return stoppedWith ?? 130;

  out(attemptReport(outcome));
  if (outcome.ok) log.info("booking_attempt", attemptDetails(outcome, mode), outcome.result?.outcome === "booked" ? "booked" : "already booked");
  else log.warn("booking_failed", attemptDetails(outcome, mode), `${outcome.failure}${outcome.stage ? ` (${outcome.stage})` : ""}`);
  for (const p of await notify(ctx.res.tg, cfg, outcome)) out(`warning: ${p}`);
  out(resultOf(outcome));
  await close(ctx);
  return outcome.ok ? 0 : 1;
}

async function close(ctx: RunContext): Promise<void> {
  ctx.res.booker?.close();
  const tg = ctx.res.tg;
  ctx.res.tg = undefined;
  // gramjs's destroy can hang on a dead connection: give it a moment, then move on.
  if (tg) await Promise.race([tg.destroy().catch(() => {}), Bun.sleep(2000)]);
  await ctx.log.close();
}

function installShutdown(ctx: RunContext, controller: AbortController): void {
  const stop = (signal: "SIGINT" | "SIGTERM", code: number) => {
    if (stoppedWith !== undefined) process.exit(stoppedWith);
    stoppedWith = code;
    out(signal === "SIGINT" ? "\ninterrupted: disconnecting (Ctrl+C again to quit at once)" : "\nterminated (SIGTERM): disconnecting");
    ctx.log.info("client_interrupted", { signal });
    controller.abort(new Error(signal === "SIGINT" ? "interrupted" : "terminated"));
    void close(ctx).then(() => process.exit(code));
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
