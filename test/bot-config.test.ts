import { describe, expect, test } from "bun:test";
import { ConfigError, DEFAULTS, parseConfig } from "../lib/bot/config.ts";

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  test("defaults: sandbox mode, 11:30, test mode on", () => {
    const c = parseConfig({});
    expect(c.token).toBeUndefined();
    expect(c.bookingTime).toEqual({ hour: 11, minute: 30, second: 0 });
    expect(c.testModeEnabled).toBe(true);
    expect(c.dbPath).toBe("bot-sandbox.db"); // no token: the sandbox's own database
    expect(c.botApiUrl).toBe("https://api.telegram.org");
    expect(c.testSmsDelayMs).toBe(1500);
    expect(c.broadcastRatePerS).toBe(30);
    expect(c.logDir).toBe("logs");
    expect(c.transportsPath).toBe(DEFAULTS.transportsPath);
    expect([...c.adminIds]).toEqual([]);
    expect(c.sandboxBotApiPort).toBe(8081);
    expect(c.sandboxMtprotoPort).toBe(8443);
  });

  test("DB_PATH: bot.db with a token, bot-sandbox.db without; an explicit value always wins", () => {
    expect(parseConfig({ BOT_TOKEN: "1:x" }).dbPath).toBe("bot.db");
    expect(parseConfig({}).dbPath).toBe("bot-sandbox.db");
    expect(parseConfig({ DB_PATH: " " }).dbPath).toBe("bot-sandbox.db");
    expect(parseConfig({ DB_PATH: "/tmp/a.db" }).dbPath).toBe("/tmp/a.db");
    expect(parseConfig({ DB_PATH: "/tmp/a.db", BOT_TOKEN: "1:x" }).dbPath).toBe("/tmp/a.db");
  });

  test("sandbox ports: 0 is any free port; bad values matter only without a token", () => {
    const c = parseConfig({ SANDBOX_BOT_API_PORT: "0", SANDBOX_MTPROTO_PORT: "18443" });
    expect([c.sandboxBotApiPort, c.sandboxMtprotoPort]).toEqual([0, 18443]);
    expect(problems({ SANDBOX_BOT_API_PORT: "abc" })).toEqual([
      'SANDBOX_BOT_API_PORT="abc": expected a port number 0-65535 (0: any free port), e.g. SANDBOX_BOT_API_PORT=8081',
    ]);
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
      LOG_DIR: "/tmp/logs",
      LOG_LEVEL: "DEBUG",
    });
    expect(c.token).toBe("123456:ABC-def_1");
    expect([...c.adminIds]).toEqual([1, 22, 333]);
    expect(c.bookingTime).toEqual({ hour: 9, minute: 5, second: 7 });
    expect(c.timeZone).toBe("Asia/Yekaterinburg");
    expect(c.testModeEnabled).toBe(false);
    expect(c.botApiUrl).toBe("http://127.0.0.1:8081");
    expect(c.testSmsDelayMs).toBe(0);
    expect(c.broadcastRatePerS).toBe(12.5);
    expect(c.logLevel).toBe("debug");
  });

  test("empty values count as unset", () => {
    expect(parseConfig({ BOT_TOKEN: "", BOOKING_TIME: " " }).token).toBeUndefined();
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
    ["BROADCAST_RATE_PER_S", "0", "BROADCAST_RATE_PER_S=30"],
    ["BROADCAST_RATE_PER_S", "fast", "BROADCAST_RATE_PER_S=30"],
    ["BOT_TOKEN", "hello", "BOT_TOKEN=123456789:"],
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

describe("bun bot.ts with bad values", () => {
  test("exits 2 naming the variable, before touching the network", () => {
    const r = Bun.spawnSync(["bun", "bot.ts"], {
      cwd: `${import.meta.dir}/..`,
      env: { ...process.env, BOOKING_TIME: "25:61", ADMIN_IDS: "admin", BOT_TOKEN: "1:x", DB_PATH: "/nonexistent/should-not-be-created.db" },
    });
    const err = r.stderr.toString();
    expect(r.exitCode).toBe(2);
    expect(err).toContain("BOOKING_TIME=\"25:61\"");
    expect(err).toContain("e.g. BOOKING_TIME=11:30");
    expect(err).toContain("ADMIN_IDS=\"admin\"");
  });
});
