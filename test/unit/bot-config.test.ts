import { describe, expect, test } from "bun:test";
import { DEFAULT_TRANSPORTS, ENV, parseConfig, usage } from "../../lib/bot/config.ts";
import { ConfigError } from "../../lib/settings.ts";

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => p.text);
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  test("defaults: sandbox mode, 11:30, test mode on", () => {
    const c = parseConfig({});
    expect(c.BOT_TOKEN).toBeUndefined();
    expect(String(c.BOOKING_TIME)).toBe("11:30:00");
    expect(c.TEST_MODE_ENABLED).toBe(true);
    expect(c.DB_PATH).toBe("bot-sandbox.db"); // no token: the sandbox's own database
    expect(c.BOT_API_URL).toBe("https://api.telegram.org");
    expect(c.TEST_SMS_DELAY_MS).toBe(1500);
    expect(c.SEND_RATE_PER_S).toBe(25); // below Telegram's ~30/s
    expect(c.BROADCAST_RATE_PER_S).toBe(25);
    expect(c.BOT_UI).toBe("classic");
    expect(c.LOG_DIR).toBe("logs");
    expect(c.TRANSPORTS_FILE).toBe(DEFAULT_TRANSPORTS);
    expect([...c.ADMIN_IDS]).toEqual([]);
    expect(c.SANDBOX_BOT_API_PORT).toBeUndefined(); // the sandbox's own default
    expect(c.SANDBOX_MTPROTO_PORT).toBeUndefined();
  });

  test("DB_PATH: bot.db with a token, bot-sandbox.db without; an explicit value always wins", () => {
    expect(parseConfig({ BOT_TOKEN: "1:x" }).DB_PATH).toBe("bot.db");
    expect(parseConfig({}).DB_PATH).toBe("bot-sandbox.db");
    expect(parseConfig({ DB_PATH: " " }).DB_PATH).toBe("bot-sandbox.db");
    expect(parseConfig({ DB_PATH: "/tmp/a.db" }).DB_PATH).toBe("/tmp/a.db");
    expect(parseConfig({ DB_PATH: "/tmp/a.db", BOT_TOKEN: "1:x" }).DB_PATH).toBe("/tmp/a.db");
  });

  test("sandbox ports: 0 is any free port; bad values matter only without a token", () => {
    const c = parseConfig({ SANDBOX_BOT_API_PORT: "0", SANDBOX_MTPROTO_PORT: "18443" });
    expect([c.SANDBOX_BOT_API_PORT, c.SANDBOX_MTPROTO_PORT]).toEqual([0, 18443]);
    expect(problems({ SANDBOX_BOT_API_PORT: "abc" })).toEqual(['SANDBOX_BOT_API_PORT="abc": expected a whole number, got the string "abc", e.g. SANDBOX_BOT_API_PORT=8081']);
    expect(problems({ SANDBOX_MTPROTO_PORT: "70000" })[0]).toStartWith('SANDBOX_MTPROTO_PORT="70000"');
    expect(problems({ SANDBOX_MTPROTO_PORT: "-1" })[0]).toContain("e.g. SANDBOX_MTPROTO_PORT=8443");
    // a real bot never listens on them
    expect(() => parseConfig({ BOT_TOKEN: "1:x", SANDBOX_BOT_API_PORT: "abc" })).not.toThrow();
  });

  test("every variable", () => {
    const c = parseConfig({
      BOT_TOKEN: "123456:ABC-def_1",
      ADMIN_IDS: " 1, 22 ,333",
      BOOKING_TIME: "09:05:07",
      TZ: "Asia/Yekaterinburg",
      TEST_MODE_ENABLED: "false",
      DB_PATH: "/tmp/x.db",
      BOT_API_URL: "http://127.0.0.1:8081/",
      TEST_SMS_DELAY_MS: "0",
      BROADCAST_RATE_PER_S: "12.5",
      SEND_RATE_PER_S: "20",
      BOT_UI: "Alert",
      LOG_DIR: "/tmp/logs",
      LOG_LEVEL: "DEBUG",
    });
    expect(c.BOT_TOKEN).toBe("123456:ABC-def_1");
    expect([...c.ADMIN_IDS]).toEqual([1, 22, 333]);
    expect(String(c.BOOKING_TIME)).toBe("09:05:07");
    expect(c.TZ).toBe("Asia/Yekaterinburg");
    expect(c.TEST_MODE_ENABLED).toBe(false);
    expect(c.BOT_API_URL).toBe("http://127.0.0.1:8081");
    expect(c.TEST_SMS_DELAY_MS).toBe(0);
    expect(c.BROADCAST_RATE_PER_S).toBe(12.5);
    expect(c.SEND_RATE_PER_S).toBe(20);
    expect(c.BOT_UI).toBe("alert");
    expect(c.LOG_LEVEL).toBe("debug");
  });

  test("empty values count as unset", () => {
    expect(parseConfig({ BOT_TOKEN: "", BOOKING_TIME: " " }).BOT_TOKEN).toBeUndefined();
  });

  test.each([
    ["BOOKING_TIME", "25:00", "BOOKING_TIME=11:30"],
    ["BOOKING_TIME", "11.30", "BOOKING_TIME=11:30"],
    ["BOOKING_TIME", "9:30", "BOOKING_TIME=11:30"],
    ["ADMIN_IDS", "12,abc", "ADMIN_IDS=123456789"],
    ["ADMIN_IDS", "-5", "ADMIN_IDS=123456789"],
    ["TEST_MODE_ENABLED", "maybe", "TEST_MODE_ENABLED=true"],
    ["BOT_API_URL", "ftp://x", "BOT_API_URL=http://127.0.0.1:8081"],
    ["BOT_API_URL", "not a url", "BOT_API_URL=http://127.0.0.1:8081"],
    ["TEST_SMS_DELAY_MS", "1.5s", "TEST_SMS_DELAY_MS=1500"],
    ["BROADCAST_RATE_PER_S", "0", "BROADCAST_RATE_PER_S=25"],
    ["BROADCAST_RATE_PER_S", "fast", "BROADCAST_RATE_PER_S=25"],
    ["BOT_TOKEN", "hello", "BOT_TOKEN=123456789:"],
    ["BOT_UI", "fancy", "BOT_UI=classic"],
    ["SEND_RATE_PER_S", "0", "SEND_RATE_PER_S=25"],
    ["TZ", "Mars/Olympus", "TZ=Asia/Yekaterinburg"],
    ["LOG_LEVEL", "loud", "LOG_LEVEL=info"],
  ])("%s=%s is refused with the variable and an example", (key, value, example) => {
    const p = problems({ [key]: value });
    expect(p).toHaveLength(1);
    expect(p[0]).toStartWith(`${key}=`);
    expect(p[0]).toContain(example);
  });

  test("all problems at once", () => {
    const p = problems({ BOOKING_TIME: "noon", ADMIN_IDS: "x", BROADCAST_RATE_PER_S: "-1" });
    expect(p.map((s) => s.split("=")[0])).toEqual(["ADMIN_IDS", "BOOKING_TIME", "BROADCAST_RATE_PER_S"]);
  });
});

test("a bad BOT_TOKEN is never echoed", () => {
  const p = problems({ BOT_TOKEN: "123456:hunter2 x" });
  expect(p[0]).toStartWith("BOT_TOKEN=<hidden>: expected the token from @BotFather");
  expect(p.join()).not.toContain("hunter2");
});

test("usage names every variable the bot reads", () => {
  const text = usage();
  const names = Object.keys(ENV);
  for (const name of names) expect(text).toContain(`${name}=`);
});
