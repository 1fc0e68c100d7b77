// One sandbox and one bot in this process on ephemeral loopback ports, with a temp DB and log
// dir: what every in-process part of the benchmark runs against. The bot logs at info level to
// its files, as in production; `onLog` sees every action name (e.g. to count retried 429s).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBot, type RunningBot } from "../lib/bot/app.ts";
import { parseConfig, type BotConfig } from "../lib/bot/config.ts";
import type { TransportSeed } from "../lib/db.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { startSandbox, type Sandbox, type SandboxOptions } from "../sandbox/index.ts";

export const BENCH_BOT = { token: "7200000001:bench-booking-bot", username: "bench_booking_bot" };

export interface RigOptions {
  env?: Record<string, string>;
  /** Applied after parsing the env: settings the env would refuse (e.g. a broadcast rate above 1000/s). */
  config?: Partial<BotConfig>;
  sandbox?: SandboxOptions;
  transports?: TransportSeed[];
  onLog?: (action: string, details: object | undefined) => void;
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
    await o.beforeBot?.(sb, config);
    const file = createLogger({ dir: config.logDir, name: "bot", minLevel: "info" });
    const log = o.onLog ? tee(file, o.onLog) : file;
    const bot = await startBot(config, { log, pollTimeoutS: 5, transports: o.transports });
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
