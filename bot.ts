// The booking simulator bot. Configuration comes from the environment (.env is loaded by Bun);
// without BOT_TOKEN it starts the local sandbox in this process and runs on it.
//   bun bot.ts            SIGINT/SIGTERM: stop polling, finish handlers, close the DB, exit 0

import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, DEFAULTS, parseConfig, type BotConfig } from "./lib/bot/config.ts";
import { startBot, type RunningBot } from "./lib/bot/app.ts";
import { createLogger, type Logger } from "./lib/log.ts";
import { BUTTON } from "./lib/ui.ts";
import { SANDBOX_BOT_TOKEN, SANDBOX_BOT_USERNAME, SANDBOX_HOST, SANDBOX_PORT_DEFAULTS } from "./sandbox/defaults.ts";

// What `bun sandbox/cli.ts` and the client's config reach without being told otherwise.
const SANDBOX_DEFAULT_URL = `http://${SANDBOX_HOST}:${SANDBOX_PORT_DEFAULTS.SANDBOX_BOT_API_PORT}`;
const cliUrl = (url: string) => (url === SANDBOX_DEFAULT_URL ? "" : ` --url ${url}`);

function refuse(e: ConfigError): never {
  console.error(`${e.message}\nFix these in .env or the environment (see .env.example) and start again.`);
  process.exit(2);
}

let config: BotConfig;
try {
  config = parseConfig(process.env);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  refuse(e);
}

let log: Logger;
try {
  log = createLogger({ dir: config.logDir, name: "bot", console: true, minLevel: config.logLevel });
  accessSync(config.logDir, constants.W_OK);
} catch (e) {
  refuse(new ConfigError([
    `LOG_DIR=${JSON.stringify(config.logDir)}: cannot create or write the log directory (${(e as Error).message}); ` +
      `expected a directory the bot can write, e.g. LOG_DIR=logs`,
  ]));
}
let sandbox: { stop(): Promise<void> } | undefined;

try {
  if (!config.token) {
    // Imported only here so that a bot on real Telegram never loads the sandbox.
    const { startSandbox } = await import("./sandbox/index.ts");
    const sb = await startSandbox({
      botApiPort: config.sandboxBotApiPort,
      mtprotoPort: config.sandboxMtprotoPort,
      bots: [{ token: SANDBOX_BOT_TOKEN, username: SANDBOX_BOT_USERNAME }],
    });
    sandbox = sb;
    log.info(
      "sandbox_mode",
      { bot_api: sb.botApiUrl, mtproto: `${sb.mtprotoHost}:${sb.mtprotoPort}`, bot: `@${SANDBOX_BOT_USERNAME}` },
      `No BOT_TOKEN: running on the local sandbox (Bot API ${sb.botApiUrl}, MTProto ${sb.mtprotoHost}:${sb.mtprotoPort}, bot @${SANDBOX_BOT_USERNAME}). ` +
        `Act as a user (the client's default is +79990000001): bun sandbox/cli.ts${cliUrl(sb.botApiUrl)} send --user +79990000001 /start; ` +
        `bun sandbox/cli.ts${cliUrl(sb.botApiUrl)} press --user +79990000001 "${BUTTON.test}"; bun sandbox/cli.ts${cliUrl(sb.botApiUrl)} history --user +79990000001` +
        (sb.botApiUrl === SANDBOX_DEFAULT_URL ? "" : `. Point the client at it with sandbox.url: "${sb.botApiUrl}" in config.yaml`),
    );
    // Without DB_PATH the config picks bot-sandbox.db here; an explicit DB_PATH is obeyed, but a
    // real bot's database is worth a warning (e.g. a .env copied with DB_PATH=bot.db and no token).
    if (resolve(config.dbPath) === resolve(DEFAULTS.dbPath)) {
      log.warn("sandbox_real_db", { db: config.dbPath }, `DB_PATH=${config.dbPath} is the real bot's database: sandbox users will be stored in it (unset DB_PATH to use the sandbox's own)`);
    }
    config = { ...config, token: SANDBOX_BOT_TOKEN, botApiUrl: sb.botApiUrl };
  }
} catch (e) {
  log.error("sandbox_failed", { error: e as Error }, `Cannot start the sandbox: ${(e as Error).message}`);
  await log.close();
  process.exit(1);
}

let running: RunningBot;
try {
  running = await startBot(config, { log });
} catch (e) {
  await sandbox?.stop();
  if (e instanceof ConfigError) {
    log.error("start_failed", { problems: e.problems }, "Cannot start: invalid configuration");
    await log.close();
    refuse(e);
  }
  log.error("start_failed", { error: e as Error }, `Cannot start: ${(e as Error).message}`);
  await log.close();
  process.exit(1);
}

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
