// The bot's configuration: one declaration per environment variable (Bun loads .env by itself), and
// the transports file. A bad value throws ConfigError naming the variable.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TransportSeed } from "../db.ts";
import { bool, ConfigError, dailyTime, httpUrl, int, list, num, oneOf, optional, readEnv, text, timeZone } from "../settings.ts";

export const REAL_DB_PATH = "bot.db";
export const DEFAULT_TRANSPORTS = join(import.meta.dir, "..", "..", "data", "transports.json");

const port = (example: string) => optional(int({ min: 0, max: 65535, example }));

export const ENV = {
  BOT_TOKEN: optional(text({ pattern: /^\d+:[A-Za-z0-9_-]+$/, hint: "expected the token from @BotFather (<digits>:<secret>)", example: "123456789:AAE...", secret: true })),
  ADMIN_IDS: list(int({ min: 1, example: "123456789" }), { default: [], example: "123456789,987654321" }),
  BOOKING_TIME: dailyTime({ default: Temporal.PlainTime.from("11:30"), example: "11:30" }),
  TZ: optional(timeZone({ example: "Asia/Yekaterinburg" })),
  TEST_MODE_ENABLED: bool({ default: true, example: "true" }),
  TEST_SMS_DELAY_MS: int({ min: 0, default: 1500, example: "1500" }),
  DB_PATH: optional(text({ example: REAL_DB_PATH })),
  BOT_API_URL: httpUrl({ default: "https://api.telegram.org", example: "http://127.0.0.1:8081" }),
  SEND_RATE_PER_S: num({ above: 0, max: 1000, default: 25, example: "25" }),
  CHAT_RATE_PER_S: num({ above: 0, max: 1000, default: 1, example: "1" }),
  BROADCAST_RATE_PER_S: num({ above: 0, max: 1000, default: 25, example: "25" }),
  BOT_UI: oneOf(["classic", "edit", "reply", "alert"] as const, { default: "classic", example: "classic" }),
  LOG_DIR: text({ default: "logs", example: "logs" }),
  LOG_LEVEL: oneOf(["debug", "info", "warn", "error"] as const, { default: "info", example: "info" }),
  TRANSPORTS_FILE: text({ default: DEFAULT_TRANSPORTS, example: "data/transports.json" }),
  SANDBOX_BOT_API_PORT: port("8081"),
  SANDBOX_MTPROTO_PORT: port("8443"),
};

/** `bun bot.ts --help`: the variables as .env.example describes them (one place for their meaning). */
export const usage = () => `Usage: bun bot.ts          the booking simulator bot (SIGINT/SIGTERM: stop, exit 0)
       bun bot.ts --help   this text
Exit codes: 0 stopped by a signal; 1 cannot start (Bot API unreachable, token rejected); 2 invalid configuration.
Configuration comes from the environment; Bun loads .env from the working directory. The variables (.env.example):

${readFileSync(join(import.meta.dir, "..", "..", ".env.example"), "utf8").trim()}`;

export type BotConfig = ReturnType<typeof parseConfig>;
export type BotUi = BotConfig["BOT_UI"];

export function parseConfig(env: Record<string, string | undefined>) {
  // The sandbox ports matter only to a bot without a token: a real bot never listens on them.
  const withToken = !!env.BOT_TOKEN?.trim();
  const v = readEnv(ENV, withToken ? { ...env, SANDBOX_BOT_API_PORT: undefined, SANDBOX_MTPROTO_PORT: undefined } : env);
  // Without a token the sandbox's users never land in a real bot's database.
  return { ...v, DB_PATH: v.DB_PATH ?? (v.BOT_TOKEN === undefined ? "bot-sandbox.db" : REAL_DB_PATH) };
}

export const configProblem = (name: string, value: string, problem: string) =>
  new ConfigError([{ path: name, text: `${name}=${JSON.stringify(value)}: ${problem}` }]);

export function parseTransports(json: unknown, source: string): TransportSeed[] {
  if (!Array.isArray(json) || json.length === 0) throw new Error(`${source}: expected a non-empty JSON array of transports`);
  return json.map((t, i) => {
    const bad = (key: string, expected: string) => new Error(`${source}[${i}]${key}: expected ${expected}`);
    if (typeof t !== "object" || t === null) throw bad("", "an object");
    for (const k of ["from_city", "to_city", "departure"]) if (typeof t[k] !== "string" || !t[k].trim()) throw bad(`.${k}`, "a non-empty string");
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(t.departure)) throw bad(".departure", '"HH:MM", e.g. "07:30"');
    if (!Number.isInteger(t.seats) || t.seats < 1 || t.seats > 1000) throw bad(".seats", "a whole number from 1 to 1000");
    return { from_city: t.from_city, to_city: t.to_city, departure: t.departure, seats: t.seats };
  });
}

export function loadTransports(path: string): TransportSeed[] {
  try {
    return parseTransports(JSON.parse(readFileSync(path, "utf8")), path);
  } catch (e) {
    const { code, message } = e as NodeJS.ErrnoException; // only a file that cannot be read has a code
    throw configProblem("TRANSPORTS_FILE", path, code ? `cannot read the transports file (${message}); expected a JSON file like data/transports.json` : message);
  }
}
