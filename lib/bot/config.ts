// The bot's configuration, parsed from the environment (Bun loads .env by itself).
// Pure: takes an env record, returns a Config or throws ConfigError listing every bad variable.

import { join } from "node:path";
import { isLogLevel, type LogLevel } from "../log.ts";
import { isValidTimeZone, parseDailyTime, type DailyTime } from "../timing.ts";
import { SANDBOX_DB_PATH, SANDBOX_PORT_DEFAULTS, sandboxPortFromEnv, type SandboxPortVar } from "../../sandbox/defaults.ts";

export interface BotConfig {
  /** undefined: run on the in-process sandbox. */
  token: string | undefined;
  adminIds: ReadonlySet<number>;
  bookingTime: DailyTime;
  /** IANA zone BOOKING_TIME is read in (TZ, else the system zone). */
  timeZone: string | undefined;
  testModeEnabled: boolean;
  /** DB_PATH; unset: bot.db with a token, bot-sandbox.db on the sandbox (its users are not real). */
  dbPath: string;
  /** Bot API server root without a trailing slash, e.g. https://api.telegram.org */
  botApiUrl: string;
  testSmsDelayMs: number;
  broadcastRatePerS: number;
  logDir: string;
  logLevel: LogLevel;
  transportsPath: string;
  /** Where the in-process sandbox listens when there is no token (0: any free port). */
  sandboxBotApiPort: number;
  sandboxMtprotoPort: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export const DEFAULTS = {
  bookingTime: "11:30",
  dbPath: "bot.db",
  botApiUrl: "https://api.telegram.org",
  testSmsDelayMs: 1500,
  broadcastRatePerS: 30,
  logDir: "logs",
  logLevel: "info" as LogLevel,
  // The repo's own file, wherever the bot is started from.
  transportsPath: join(import.meta.dir, "..", "..", "data", "transports.json"),
};

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off"]);

type Env = Record<string, string | undefined>;

export function parseConfig(env: Env): BotConfig {
  const problems: string[] = [];
  const get = (k: string): string | undefined => {
    const v = env[k]?.trim();
    return v === "" ? undefined : v;
  };
  const bad = (k: string, v: string, expected: string, example: string) =>
    problems.push(`${k}=${JSON.stringify(v)}: ${expected}, e.g. ${k}=${example}`);

  const token = get("BOT_TOKEN");
  if (token !== undefined && !/^\d+:[A-Za-z0-9_-]+$/.test(token)) {
    bad("BOT_TOKEN", token, "expected the token from @BotFather (<digits>:<secret>)", "123456789:AAE...");
  }

  const adminIds = new Set<number>();
  const adminRaw = get("ADMIN_IDS");
  if (adminRaw !== undefined) {
    for (const part of adminRaw.split(",").map((s) => s.trim()).filter(Boolean)) {
      if (/^\d{1,16}$/.test(part) && Number(part) > 0) adminIds.add(Number(part));
      else {
        bad("ADMIN_IDS", adminRaw, `"${part}" is not a numeric Telegram user id; expected comma-separated ids`, "123456789,987654321");
        break;
      }
    }
  }

  const timeRaw = get("BOOKING_TIME") ?? DEFAULTS.bookingTime;
  let bookingTime: DailyTime = { hour: 11, minute: 30, second: 0 };
  try {
    bookingTime = parseDailyTime(timeRaw);
  } catch {
    bad("BOOKING_TIME", timeRaw, "expected HH:MM or HH:MM:SS on a 24-hour clock", "11:30");
  }

  const timeZone = get("TZ")?.replace(/^:/, "");
  if (timeZone !== undefined && !isValidTimeZone(timeZone)) {
    bad("TZ", timeZone, "expected an IANA time zone", "Asia/Yekaterinburg");
  }

  let testModeEnabled = true;
  const testRaw = get("TEST_MODE_ENABLED");
  if (testRaw !== undefined) {
    const v = testRaw.toLowerCase();
    if (TRUE.has(v)) testModeEnabled = true;
    else if (FALSE.has(v)) testModeEnabled = false;
    else bad("TEST_MODE_ENABLED", testRaw, "expected true or false", "true");
  }

  let botApiUrl = (get("BOT_API_URL") ?? DEFAULTS.botApiUrl).replace(/\/+$/, "");
  try {
    const u = new URL(botApiUrl);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
  } catch {
    bad("BOT_API_URL", botApiUrl, "expected an http(s) URL of the Bot API server root", "http://127.0.0.1:8081");
    botApiUrl = DEFAULTS.botApiUrl;
  }

  const int = (k: string, def: number, min: number, example: string): number => {
    const raw = get(k);
    if (raw === undefined) return def;
    if (!/^\d+$/.test(raw) || Number(raw) < min) {
      bad(k, raw, `expected a whole number >= ${min}`, example);
      return def;
    }
    return Number(raw);
  };
  const testSmsDelayMs = int("TEST_SMS_DELAY_MS", DEFAULTS.testSmsDelayMs, 0, "1500");

  let broadcastRatePerS = DEFAULTS.broadcastRatePerS;
  const rateRaw = get("BROADCAST_RATE_PER_S");
  if (rateRaw !== undefined) {
    const n = Number(rateRaw);
    if (!/^\d+(\.\d+)?$/.test(rateRaw) || !(n > 0) || n > 1000) bad("BROADCAST_RATE_PER_S", rateRaw, "expected messages per second, > 0 and <= 1000", "30");
    else broadcastRatePerS = n;
  }

  const levelRaw = get("LOG_LEVEL")?.toLowerCase() ?? DEFAULTS.logLevel;
  let logLevel: LogLevel = DEFAULTS.logLevel;
  if (isLogLevel(levelRaw)) logLevel = levelRaw;
  else bad("LOG_LEVEL", levelRaw, "expected debug, info, warn or error", "info");

  // Only the sandbox (no token) listens on these; sandbox/defaults.ts owns their names and defaults.
  const port = (k: SandboxPortVar): number => {
    const n = sandboxPortFromEnv(k, env);
    if (token === undefined && Number.isNaN(n)) bad(k, env[k]!.trim(), "expected a port number 0-65535 (0: any free port)", String(SANDBOX_PORT_DEFAULTS[k]));
    return n;
  };
  const sandboxBotApiPort = port("SANDBOX_BOT_API_PORT");
  const sandboxMtprotoPort = port("SANDBOX_MTPROTO_PORT");

  if (problems.length) throw new ConfigError(problems);
  return {
    token,
    adminIds,
    bookingTime,
    timeZone,
    testModeEnabled,
    // Sandbox users vanish with the sandbox: keep them out of a real bot's database.
    dbPath: get("DB_PATH") ?? (token === undefined ? SANDBOX_DB_PATH : DEFAULTS.dbPath),
    botApiUrl,
    testSmsDelayMs,
    broadcastRatePerS,
    logDir: get("LOG_DIR") ?? DEFAULTS.logDir,
    logLevel,
    transportsPath: get("TRANSPORTS_FILE") ?? DEFAULTS.transportsPath,
    sandboxBotApiPort,
    sandboxMtprotoPort,
  };
}
