import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_BOT, DEFAULT_SANDBOX_URL, loadClientConfig, looksLikeOurBot, parseClientConfig } from "../../lib/client/config.ts";
import { DEFAULT_FLOW_CONFIG } from "../../lib/flow.ts";
import { ConfigError } from "../../lib/settings.ts";
import { RECOGNISE } from "../../lib/ui.ts";

const MINIMAL = `targets:\n  - cities: ["Челябинск"]\n    priority: 1\n`;
const HASH = "0123456789abcdef0123456789abcdef";

function errorOf(yaml: string): ConfigError {
  try {
    parseClientConfig(yaml, "config.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("valid configs", () => {
  test("the repository's config.yaml: sandbox-ready", () => {
    const cfg = loadClientConfig(join(import.meta.dir, "..", "..", "config.yaml"));
    expect(cfg.usesSandbox).toBe(true);
    expect(cfg.bot.username).toBe("aprel_booking_bot");
    expect(cfg.targets).toEqual([
      { cities: ["Челябинск"], priority: 1 },
      { cities: ["Екатеринбург"], priority: 2 },
    ]);
    expect(String(cfg.booking.target_time)).toBe("11:30:00");
    expect(cfg.performance).toEqual({ polling_interval_ms: 30, max_retries: 3, connection_timeout: 10 });
    expect(cfg.sandbox.url).toBe("http://127.0.0.1:8081");
  });

  test("defaults for everything but targets", () => {
    const cfg = parseClientConfig(MINIMAL, "x");
    expect(cfg.usesSandbox).toBe(true);
    expect(cfg.bot.username).toBe(DEFAULT_BOT);
    expect(cfg.booking).toEqual({ target_time: undefined, timezone: undefined });
    expect(cfg.performance).toEqual({ polling_interval_ms: 30, max_retries: 3, connection_timeout: 10 });
    expect(cfg.notifications).toEqual({ telegram_notify: true, sound_alert: true });
    expect(cfg.session.path).toBe("sessions/client.session");
    expect(cfg.texts).toEqual(DEFAULT_FLOW_CONFIG.texts);
    expect(cfg.sandbox.url).toBe(DEFAULT_SANDBOX_URL);
  });

  test("every key of the seed works", () => {
    const cfg = parseClientConfig(
      `
telegram:
  api_id: 12345678
  api_hash: "${HASH}"
  phone: "+79991234567"
bot:
  username: my_booking_bot
targets:
  - cities: ["Челябинск", "Курган"]
    priority: 2
  - cities: [Екатеринбург]
    priority: 1
booking:
  target_time: 15:30:00
  timezone: Asia/Yekaterinburg
performance:
  polling_interval_ms: 50
  max_retries: 0
  connection_timeout: 2.5
notifications:
  telegram_notify: false
  sound_alert: false
session:
  path: /tmp/s.session
texts:
  booked: "Booked"
  confirm_button: "Confirm"
sandbox:
  url: http://127.0.0.1:9999/
`,
      "x",
    );
    expect(cfg.usesSandbox).toBe(false);
    expect(cfg.telegram.apiId).toBe(12345678);
    expect(cfg.telegram.apiHash).toBe(HASH);
    expect(cfg.telegram.phone).toBe("+79991234567");
    expect(cfg.bot.username).toBe("my_booking_bot");
    expect(cfg.targets[0]).toEqual({ cities: ["Челябинск", "Курган"], priority: 2 });
    expect({ ...cfg.booking, target_time: String(cfg.booking.target_time) }).toEqual({ target_time: "15:30:00", timezone: "Asia/Yekaterinburg" });
    expect(cfg.performance).toEqual({ polling_interval_ms: 50, max_retries: 0, connection_timeout: 2.5 });
    expect(cfg.notifications).toEqual({ telegram_notify: false, sound_alert: false });
    expect(cfg.session.path).toBe("/tmp/s.session");
    expect(cfg.texts).toEqual({ ...DEFAULT_FLOW_CONFIG.texts, booked: ["Booked"], confirmButton: ["Confirm"] });
    expect(cfg.sandbox.url).toBe("http://127.0.0.1:9999");
  });

  test("HH:MM target times are accepted", () => {
    expect(parseClientConfig(`${MINIMAL}booking:\n  target_time: "11:30"\n`, "x").booking.target_time?.toString()).toBe("11:30:00");
  });

  test("placeholder credentials mean the sandbox", () => {
    for (const tg of ["api_id: 0", 'api_hash: "your_api_hash"', 'api_id: 0\n  api_hash: ""', 'api_id: 0\n  api_hash: "your_api_hash"\n  phone: "+7999"']) {
      expect(parseClientConfig(`telegram:\n  ${tg}\n${MINIMAL}`, "x").usesSandbox).toBe(true);
    }
    expect(parseClientConfig(`telegram:\n${MINIMAL}`, "x").usesSandbox).toBe(true);
  });
});

describe("errors name the key's path and show an example", () => {
  const cases: [string, string, RegExp[]][] = [
    ["invalid YAML", "targets: [\n  - a\n", [/^config\.yaml:\d+: invalid YAML/]],
    ["tab-indented YAML", "targets:\n\t- cities: [a]\n", [/invalid YAML/]],
    ["an empty file", "", [/empty/, /targets/]],
    ["a list at the top", "- a\n- b\n", [/expected a mapping/]],
    ["missing targets", "bot:\n  username: some_bot\n", [/config\.yaml:1: targets: required key is missing/, /Example: targets:/]],
    ["empty targets", "targets: []\n", [/targets: must list at least one entry/]],
    ["a target that is not a mapping", "targets:\n  - Челябинск\n", [/targets\[0\]: expected a mapping/]],
    ["missing priority", "targets:\n  - cities: [a]\n", [/targets\[0\]\.priority: required key is missing/, /Example: priority: 1/]],
    [
      "wrong-typed priority",
      "targets:\n  - cities: [a]\n    priority: 1\n  - cities: [b]\n    priority: high\n",
      [/^config\.yaml:5: targets\[1\]\.priority: expected a whole number, got the string "high"\. Example: priority: 1/],
    ],
    ["fractional priority", "targets:\n  - cities: [a]\n    priority: 1.5\n", [/targets\[0\]\.priority: expected a whole number/]],
    ["cities not a list", "targets:\n  - cities: Челябинск\n    priority: 1\n", [/targets\[0\]\.cities: expected a list, got the string "Челябинск"/]],
    ["an empty city", "targets:\n  - cities: [a, '']\n    priority: 1\n", [/targets\[0\]\.cities\[1\]: must not be empty/]],
    ["an unknown top-level key", `${MINIMAL}perfomance:\n  max_retries: 1\n`, [/config\.yaml:4: perfomance: unknown key \(did you mean "performance"\?\)/, /allowed here/]],
    ["an unknown nested key", `${MINIMAL}performance:\n  polling_ms: 30\n`, [/performance\.polling_ms: unknown key/, /polling_interval_ms/]],
    ["an unknown key in a target", "targets:\n  - cities: [a]\n    priority: 1\n    prio: 2\n", [/targets\[0\]\.prio: unknown key \(did you mean "priority"\?\)/]],
    ["camelCase text keys", `${MINIMAL}texts:\n  soldOut: "x"\n`, [/texts\.soldOut: unknown key \(did you mean "sold_out"\?\)/]],
    ["an empty text", `${MINIMAL}texts:\n  booked: ""\n`, [/texts\.booked: must not be empty/, /Example: booked: "Забронировано"/]],
    ["a null text", `${MINIMAL}texts:\n  booked:\n`, [/texts\.booked: must not be empty \(write the value, or remove the key/, /Example: booked: "Забронировано"/]],
    ["a null text in flow style", `${MINIMAL}texts: {booked: }\n`, [/texts\.booked: must not be empty/, /Example: booked: "Забронировано"/]],
    [
      "an unknown key with a suggestion shows the suggested key's example",
      `${MINIMAL}performance: {polling_interval: 30}\n`,
      [/performance\.polling_interval: unknown key \(did you mean "polling_interval_ms"\?\)/, /Example: polling_interval_ms: 30$/],
    ],
    ["an unknown key without a suggestion shows its section's example", `${MINIMAL}performance:\n  zzz: 1\n`, [/performance\.zzz: unknown key; allowed here/, /Example: performance: \{polling_interval_ms: 30/]],
    ["an unknown top-level key without a suggestion", `${MINIMAL}qwertyuiop: 1\n`, [/qwertyuiop: unknown key; allowed here/, /Example: telegram: \{\.\.\.\}, bot:/]],
    ["a section that is a string", `${MINIMAL}performance: fast\n`, [/performance: expected a mapping of keys, got the string "fast"/]],
    ["a bad target_time", `${MINIMAL}booking:\n  target_time: "25:00"\n`, [/booking\.target_time: invalid time "25:00": expected "HH:MM" or "HH:MM:SS"/]],
    ["a short target_time", `${MINIMAL}booking:\n  target_time: "11:3"\n`, [/booking\.target_time: invalid time/]],
    ["a numeric target_time", `${MINIMAL}booking:\n  target_time: 1130\n`, [/booking\.target_time: got a number: quote the time/]],
    ["an unknown time zone", `${MINIMAL}booking:\n  timezone: Mars/Olympus\n`, [/booking\.timezone: unknown time zone "Mars\/Olympus"/]],
    ["a string api_id", `telegram:\n  api_id: "123"\n  api_hash: "${HASH}"\n${MINIMAL}`, [/telegram\.api_id: expected a whole number/]],
    ["an unquoted phone", `telegram:\n  phone: +79991234567\n${MINIMAL}`, [/telegram\.phone: expected a string, got the number 79991234567; quote it/, /"\+79991234567"/]],
    ["api_id without api_hash", `telegram:\n  api_id: 12345678\n${MINIMAL}`, [/telegram\.api_hash: telegram\.api_id is set/]],
    ["api_hash without api_id", `telegram:\n  api_hash: "${HASH}"\n${MINIMAL}`, [/telegram\.api_id: telegram\.api_hash is set/]],
    ["a username with @", `bot:\n  username: "@aprel_booking_bot"\n${MINIMAL}`, [/bot\.username: write it without the leading @: "aprel_booking_bot"/]],
    ["a bad username", `bot:\n  username: "t.me/x"\n${MINIMAL}`, [/bot\.username: "t\.me\/x" is not a Telegram username/]],
    ["negative max_retries", `${MINIMAL}performance:\n  max_retries: -1\n`, [/performance\.max_retries: must be at least 0/]],
    ["zero polling interval", `${MINIMAL}performance:\n  polling_interval_ms: 0\n`, [/performance\.polling_interval_ms: must be at least 1/]],
    ["a string timeout", `${MINIMAL}performance:\n  connection_timeout: "10s"\n`, [/performance\.connection_timeout: expected a number/, /seconds/]],
    ["a yes/no bool", `${MINIMAL}notifications:\n  sound_alert: "yes"\n`, [/notifications\.sound_alert: expected true or false/]],
    ["a bad sandbox url", `${MINIMAL}sandbox:\n  url: "127.0.0.1:8081"\n`, [/sandbox\.url: "127\.0\.0\.1:8081" is not an http\(s\) URL/]],
    ["a duplicate key", `${MINIMAL}bot:\n  username: a_bot1\nbot:\n  username: b_bot2\n`, [/invalid YAML/]],
  ];

  for (const [name, yaml, patterns] of cases) {
    test(name, () => {
      const e = errorOf(yaml);
      expect(e.message.split("\n")).toHaveLength(1);
      for (const p of patterns) expect(e.message).toMatch(p);
      // The spec: every config error names the key's path and gives an example.
      if (!/invalid YAML/.test(e.message)) expect(e.message).toContain(". Example: ");
    });
  }

  test("the error carries its path and line", () => {
    const e = errorOf("targets:\n  - cities: [a]\n    priority: 1\n  - cities: [b]\n    priority: high\n");
    expect(e.path).toBe("targets[1].priority");
    expect(e.problems[0]!.line).toBe(5);
    expect(e.name).toBe("ConfigError");
  });
});

describe("secrets stay out of output", () => {
  const cfg = parseClientConfig(`telegram:\n  api_id: 12345678\n  api_hash: "${HASH}"\n  phone: "+79991234567"\n${MINIMAL}`, "x");

  test("api_hash is absent from JSON and strings; the phone is masked", () => {
    expect(JSON.stringify(cfg)).not.toContain(HASH);
    expect(String(cfg.telegram)).not.toContain(HASH);
    expect(`${cfg.telegram}`).toBe("TelegramCredentials(api_id=12345678, phone=********4567)");
    expect(Bun.inspect(cfg)).not.toContain(HASH);
    expect(JSON.parse(JSON.stringify(cfg)).telegram).toEqual({ apiId: 12345678, apiHash: "<redacted>", phone: "********4567" });
  });

  test("a wrong-typed api_hash is not echoed", () => {
    const e = errorOf(`telegram:\n  api_id: 12345678\n  api_hash: 98765432109876543210\n${MINIMAL}`);
    expect(e.message).toMatch(/telegram\.api_hash: expected a string, got a number/);
    expect(e.message).not.toContain("9876543210");
  });
});

describe("loadClientConfig", () => {
  test("a missing file is a ConfigError naming the path", () => {
    expect(() => loadClientConfig("/nonexistent/config.yaml")).toThrow(/\/nonexistent\/config\.yaml: file not found/);
  });

  test("errors name the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "aprel-config-"));
    const path = join(dir, "bad.yaml");
    writeFileSync(path, `${MINIMAL}bogus: 1\n`);
    try {
      expect(() => loadClientConfig(path)).toThrow(`${path}:4: bogus: unknown key`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("looksLikeOurBot (the 🧪 Тест hint)", () => {
  test("our username or our texts: yes; another bot with its own texts: no", () => {
    expect(looksLikeOurBot(parseClientConfig(MINIMAL, "x"))).toBe(true);
    expect(looksLikeOurBot(parseClientConfig(`bot:\n  username: other_bot\n${MINIMAL}`, "x"))).toBe(true);
    expect(looksLikeOurBot(parseClientConfig(`bot:\n  username: other_bot\ntexts:\n  booked: "Вы записаны"\n${MINIMAL}`, "x"))).toBe(false);
  });

  test("texts.* take a string or a list", () => {
    const cfg = parseClientConfig(`${MINIMAL}texts:\n  sold_out: ["Мест нет", "нет мест"]\n  booked: "Вы записаны"\n`, "x");
    expect(cfg.texts.soldOut).toEqual(["Мест нет", "нет мест"]);
    expect(cfg.texts.booked).toEqual(["Вы записаны"]);
    expect(errorOf(`${MINIMAL}texts:\n  sold_out: []\n`).message).toMatch(/texts\.sold_out: must list at least one entry/);
  });
});
