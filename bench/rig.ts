// One sandbox and one bot in this process on ephemeral loopback ports, with a temp DB and log
// dir: what every in-process part of the benchmark runs against. The bot logs at info level to
// its files, as in production; `onLog` sees every action name (e.g. to count retried 429s).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBot, type RunningBot } from "../lib/bot/app.ts";
import type { SendLimits } from "../lib/bot/sender.ts";
import { parseConfig, type BotConfig } from "../lib/bot/config.ts";
import type { TransportSeed } from "../lib/db.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { startSandbox, type Sandbox, type SandboxOptions } from "../sandbox/index.ts";
import { Database } from "bun:sqlite";
import { sandboxBotEnv } from "../demo/stack.ts";
import { sleep, until } from "./stats.ts";

export const BENCH_BOT = { token: "7200000001:bench-booking-bot", username: "bench_booking_bot" };

export interface RigOptions {
  env?: Record<string, string>;
  /** Applied after parsing the env: settings the env would refuse (e.g. a broadcast rate above 1000/s). */
  config?: Partial<BotConfig>;
  sandbox?: SandboxOptions;
  transports?: TransportSeed[];
  onLog?: (action: string, details: object | undefined) => void;
  /** The bot's send pacing; default: none (the benchmarks measure capacity unless they ask for Telegram's limits). */
  limits?: Partial<SendLimits>;
  /** Runs before the bot starts (e.g. to fill its database). */
  beforeBot?: (sb: Sandbox, config: BotConfig) => void | Promise<void>;
}

export interface Rig {
  sb: Sandbox;
  bot: RunningBot;
  config: BotConfig;
  dir: string;
  close(): Promise<void>;
}

export async function startRig(o: RigOptions = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), "aprel-bench-"));
  const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [BENCH_BOT], ...o.sandbox });
  try {
    const config: BotConfig = {
      ...parseConfig({
        BOT_TOKEN: BENCH_BOT.token,
        BOT_API_URL: sb.botApiUrl,
        DB_PATH: join(dir, "bot.db"),
        LOG_DIR: join(dir, "logs"),
        LOG_LEVEL: "info",
        ...o.env,
      }),
      ...o.config,
    };
    if (!o.limits) config.SEND_RATE_PER_S = Math.max(100_000, config.BROADCAST_RATE_PER_S);
    await o.beforeBot?.(sb, config);
    const file = createLogger({ dir: config.LOG_DIR, name: "bot", minLevel: "info" });
    const log = o.onLog ? tee(file, o.onLog) : file;
    const unpaced = { burst: 100_000, chatPerS: 100_000, chatBurst: 100_000 };
    const bot = await startBot(config, { log, pollTimeoutS: 5, transports: o.transports, limits: o.limits ?? unpaced });
    return {
      sb,
      bot,
      config,
      dir,
      async close() {
        await bot.stop();
        await log.close();
        await sb.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function tee(inner: Logger, fn: (action: string, details: object | undefined) => void): Logger {
  return {
    debug: (a, d, m) => (fn(a, d), inner.debug(a, d, m)),
    info: (a, d, m) => (fn(a, d), inner.info(a, d, m)),
    warn: (a, d, m) => (fn(a, d), inner.warn(a, d, m)),
    error: (a, d, m) => (fn(a, d), inner.error(a, d, m)),
    flush: () => inner.flush(),
    close: () => inner.close(),
    textPath: inner.textPath,
    jsonPath: inner.jsonPath,
  };
}

/** A sandbox in this process and the bot as `bun bot.ts` in its own, as in production. */
export interface ChildBotRig {
  sb: Sandbox;
  /** The bot's database, read-only (WAL: we see what it has committed). */
  db: Database;
  close(): Promise<void>;
}

/**
 * For the reaction benchmark: the bot's own work after each send (its database write, its log
 * line) must not run in the client's event loop, where it would be charged to the client.
 */
export async function startChildBotRig(env: Record<string, string>): Promise<ChildBotRig> {
  const dir = mkdtempSync(join(tmpdir(), "aprel-bench-"));
  const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [BENCH_BOT] });
  const bot = sb.world.botByUsername(BENCH_BOT.username)!;
  // Latency is measured, not Telegram's pacing: one user books 100 times in a row here.
  const botEnv = sandboxBotEnv({ token: BENCH_BOT.token, botApiUrl: sb.botApiUrl, dir, env });
  const dbPath = botEnv.DB_PATH!;
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "..", "bot.ts")], {
    cwd: dir,
    env: { ...process.env, ...botEnv },
    stdin: "ignore",
    stdout: "ignore",
    stderr: Bun.file(join(dir, "bot.err")),
  });
  const stop = async () => {
    child.kill("SIGTERM");
    await Promise.race([child.exited, sleep(5000)]);
    if (child.exitCode === null) child.kill("SIGKILL");
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(() => bot.waiters.size > 0 || child.exitCode !== null, 20_000, "bun bot.ts to start polling");
    if (child.exitCode !== null) throw new Error(`bun bot.ts exited with ${child.exitCode}: ${await Bun.file(join(dir, "bot.err")).text()}`);
    const db = new Database(dbPath, { readonly: true });
    return {
      sb,
      db,
      async close() {
        db.close();
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
