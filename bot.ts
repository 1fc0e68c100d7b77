// The booking simulator bot (`bun bot.ts --help`). Configuration comes from the environment (.env is
// loaded by Bun); without BOT_TOKEN it starts the local sandbox in this process and runs on it.

import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import { startBot } from "./lib/bot/app.ts";
import { configProblem, parseConfig, REAL_DB_PATH, usage, type BotConfig } from "./lib/bot/config.ts";
import { createLogger, type Logger } from "./lib/log.ts";
import { ConfigError } from "./lib/settings.ts";
import { SANDBOX_BOT_TOKEN, SANDBOX_BOT_USERNAME, SANDBOX_PORT_DEFAULTS } from "./sandbox/defaults.ts";
import { sandboxUsage } from "./sandbox/usage.ts";

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(usage());
  process.exit(0);
}

function refuse(e: unknown): never {
  if (!(e instanceof ConfigError)) throw e;
  const problems = e.problems.map((p) => `  - ${p.text}`).join("\n");
  console.error(`Invalid configuration:\n${problems}\nFix these in .env or the environment (see bun bot.ts --help) and start again.`);
  process.exit(2);
}

let config: BotConfig;
let log: Logger;
try {
  config = parseConfig(process.env);
} catch (e) {
  refuse(e);
}
try {
  log = createLogger({ dir: config.LOG_DIR, name: "bot", console: true, minLevel: config.LOG_LEVEL });
  accessSync(config.LOG_DIR, constants.W_OK);
} catch (e) {
  refuse(configProblem("LOG_DIR", config.LOG_DIR, `cannot create or write the log directory (${(e as Error).message}), e.g. LOG_DIR=logs`));
}

let sandbox: { stop(): Promise<void> } | undefined;

async function fail(action: string, e: unknown): Promise<never> {
  await sandbox?.stop();
  log.error(action, { error: e as Error }, `Cannot start: ${(e as Error).message}`);
  await log.close();
  if (e instanceof ConfigError) refuse(e);
  process.exit(1);
}

if (!config.BOT_TOKEN) {
  // Imported only here so that a bot on real Telegram never loads the sandbox.
  const { startSandbox } = await import("./sandbox/index.ts");
  const sb = await startSandbox({
    botApiPort: config.SANDBOX_BOT_API_PORT ?? SANDBOX_PORT_DEFAULTS.SANDBOX_BOT_API_PORT,
    mtprotoPort: config.SANDBOX_MTPROTO_PORT ?? SANDBOX_PORT_DEFAULTS.SANDBOX_MTPROTO_PORT,
    bots: [{ token: SANDBOX_BOT_TOKEN, username: SANDBOX_BOT_USERNAME }],
  }).catch((e) => fail("sandbox_failed", e));
  sandbox = sb;
  const use = sandboxUsage(sb.botApiUrl);
  log.info(
    "sandbox_mode",
    { bot_api: sb.botApiUrl, mtproto: `${sb.mtprotoHost}:${sb.mtprotoPort}`, bot: `@${SANDBOX_BOT_USERNAME}` },
    `No BOT_TOKEN: running on the local sandbox (Bot API ${sb.botApiUrl}, MTProto ${sb.mtprotoHost}:${sb.mtprotoPort}, bot @${SANDBOX_BOT_USERNAME}). ` +
      `Chat with the bot in a browser: ${use.web}. Or act as a user on the command line: ${use.cli.join("; then ")}` +
      (use.defaultUrl ? "" : `. Point the client at it with sandbox.url: "${sb.botApiUrl}" in config.yaml`),
  );
  if (resolve(config.DB_PATH) === resolve(REAL_DB_PATH)) {
    log.warn("sandbox_real_db", { db: config.DB_PATH }, `DB_PATH=${config.DB_PATH} is the real bot's database: sandbox users will be stored in it (unset DB_PATH to use the sandbox's own)`);
  }
  config = { ...config, BOT_TOKEN: SANDBOX_BOT_TOKEN, BOT_API_URL: sb.botApiUrl };
}

const running = await startBot(config, { log }).catch((e) => fail("start_failed", e));

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("shutdown", { signal }, `${signal}: stopping`);
  try {
    await running.stop();
    await sandbox?.stop();
  } catch (e) {
    log.error("shutdown_failed", { error: e as Error });
  }
  await log.close();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
