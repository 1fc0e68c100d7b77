// The booking simulator bot. Configuration comes from the environment (.env is loaded by Bun);
// without BOT_TOKEN it starts the local sandbox in this process and runs on it.
//   bun bot.ts            SIGINT/SIGTERM: stop polling, finish handlers, close the DB, exit 0

import { ConfigError, parseConfig, type BotConfig } from "./lib/bot/config.ts";
import { startBot, type RunningBot } from "./lib/bot/app.ts";
import { createLogger } from "./lib/log.ts";
import { SANDBOX_BOT_TOKEN, SANDBOX_BOT_USERNAME, SANDBOX_DB_PATH } from "./sandbox/defaults.ts";

let config: BotConfig;
try {
  config = parseConfig(process.env);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(`${e.message}\nFix these in .env or the environment (see .env.example) and start again.`);
  process.exit(2);
}

const log = createLogger({ dir: config.logDir, name: "bot", console: true, minLevel: config.logLevel });
let sandbox: { stop(): Promise<void> } | undefined;

try {
  if (!config.token) {
    // Imported only here so that a bot on real Telegram never loads the sandbox.
    const { startSandbox } = await import("./sandbox/index.ts");
    const sb = await startSandbox({ bots: [{ token: SANDBOX_BOT_TOKEN, username: SANDBOX_BOT_USERNAME }] });
    sandbox = sb;
    log.info(
      "sandbox_mode",
      { bot_api: sb.botApiUrl, mtproto: `${sb.mtprotoHost}:${sb.mtprotoPort}`, bot: `@${SANDBOX_BOT_USERNAME}` },
      `No BOT_TOKEN: running on the local sandbox (Bot API ${sb.botApiUrl}, MTProto ${sb.mtprotoHost}:${sb.mtprotoPort}, bot @${SANDBOX_BOT_USERNAME}). ` +
        `Act as a user: bun sandbox/cli.ts new-user --name Anna --phone +79990000001; ` +
        `bun sandbox/cli.ts send --user +79990000001 /start; bun sandbox/cli.ts press --user +79990000001 "🧪 Тест"`,
    );
    // Sandbox users vanish with the sandbox: keep them out of a real bot's database.
    const dbPath = process.env.DB_PATH?.trim() ? config.dbPath : SANDBOX_DB_PATH;
    config = { ...config, token: SANDBOX_BOT_TOKEN, botApiUrl: sb.botApiUrl, dbPath };
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
  log.error("start_failed", { error: e as Error }, `Cannot start: ${(e as Error).message}`);
  await sandbox?.stop();
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
