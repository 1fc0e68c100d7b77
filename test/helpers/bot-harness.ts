// The bot in-process against a sandbox on ephemeral ports, with a temp DB and log dir.
// Users act through the sandbox world (Human): the bot sees real HTTP Bot API traffic. Sends are
// not paced unless a test asks for limits (most tests press faster than Telegram lets a bot reply).

import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBot, type RunningBot, type StartDeps } from "../../lib/bot/app.ts";
import { parseConfig, type BotConfig } from "../../lib/bot/config.ts";
import { createLogger, type Logger } from "../../lib/log.ts";
import { Human } from "../../sandbox/human.ts";
import { startFaultProxy, type FaultProxy, type FaultRule } from "./bot-api-proxy.ts";
import { startSandbox, type Sandbox, type SandboxOptions } from "../../sandbox/index.ts";

export const TEST_BOT = { token: "7100000001:test-booking-bot", username: "test_booking_bot" };

export interface Harness {
  sb: Sandbox;
  /** Between the bot and the sandbox when the harness was given a fault rule. */
  proxy?: FaultProxy;
  dir: string;
  config: BotConfig;
  bot: RunningBot;
  log: Logger;
  /** A new person who has written nothing yet. */
  human(name?: string): Human;
  /** Stops the bot (not the sandbox) and starts a new one on the same DB and config. */
  restart(env?: Record<string, string>): Promise<RunningBot>;
  /** A read-only look at the bot's database file. */
  query<Row>(sql: string, ...params: (string | number)[]): Row[];
  jsonLog(): { timestamp: string; level: string; action: string; details: Record<string, unknown> }[];
  close(): Promise<void>;
}

const UNPACED: StartDeps["limits"] = { chatPerS: 10_000, chatBurst: 10_000, burst: 10_000 };

export async function startHarness(env: Record<string, string> = {}, sandbox: SandboxOptions = {}, deps: Partial<StartDeps> = {}, fault?: FaultRule): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "aprel-bot-"));
  const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [TEST_BOT], ...sandbox });
  const proxy = fault ? startFaultProxy(sb.botApiUrl, fault) : undefined;
  const configFor = (extra: Record<string, string>) =>
    parseConfig({
      BOT_TOKEN: TEST_BOT.token,
      BOT_API_URL: proxy?.url ?? sb.botApiUrl,
      DB_PATH: join(dir, "bot.db"),
      LOG_DIR: join(dir, "logs"),
      TEST_SMS_DELAY_MS: "200",
      SEND_RATE_PER_S: "1000",
      BROADCAST_RATE_PER_S: "1000",
      ...env,
      ...extra,
    });
  const config = configFor({});
  const log = createLogger({ dir: config.LOG_DIR, name: "bot", minLevel: "debug" });
  const start = (c: BotConfig) => startBot(c, { pollTimeoutS: 5, limits: UNPACED, ...deps, log });
  let bot = await start(config);
  const humans: Human[] = [];
  let n = 0;
  const h: Harness = {
    sb,
    proxy,
    dir,
    config,
    get bot() {
      return bot;
    },
    log,
    human(name) {
      const p = Human.create(sb.world, TEST_BOT.username, { first_name: name ?? `Tester ${++n}` });
      humans.push(p);
      return p;
    },
    async restart(extra = {}) {
      await bot.stop();
      bot = await start(configFor(extra));
      return bot;
    },
    query<Row>(sql: string, ...params: (string | number)[]) {
      const file = new Database(config.DB_PATH, { readonly: true });
      try {
        return file.query<Row, (string | number)[]>(sql).all(...params);
      } finally {
        file.close();
      }
    },
    jsonLog() {
      if (!existsSync(log.jsonPath)) return [];
      return readFileSync(log.jsonPath, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
    },
    async close() {
      for (const p of humans) p.close();
      proxy?.stop();
      await bot.stop();
      await log.close();
      await sb.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** "HH:MM:SS" (local zone) of the first whole second at least `aheadMs` from now, and that instant. */
export function bookingTimeAhead(aheadMs: number): { text: string; at: number } {
  const at = Math.ceil((Date.now() + aheadMs) / 1000) * 1000;
  const d = new Date(at);
  const p = (x: number) => String(x).padStart(2, "0");
  return { text: `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`, at };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` until true or the timeout passes. */
export async function until(cond: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
