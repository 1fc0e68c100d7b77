import { describe, expect, test } from "bun:test";
import { bool, ConfigError, dailyTime, int, list, num, optional, readEnv, readYaml, record, text, texts } from "../../lib/settings.ts";

const errorOf = (f: () => unknown): ConfigError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
};

describe("environment variables", () => {
  const schema = {
    RATE: num({ default: 25, above: 0, example: "25" }),
    RETRIES: int({ default: 3, min: 0, example: "3" }),
    ENABLED: bool({ default: true, example: "true" }),
    AT: dailyTime({ default: Temporal.PlainTime.from("11:30"), example: "11:30" }),
    IDS: list(int({ min: 1, example: "123" }), { default: [], example: "123,456" }),
    TOKEN: optional(text({ example: "123:abc", secret: true, pattern: /^\d+:\w+$/, hint: "expected <digits>:<secret>" })),
  };

  test("strings are coerced; empty means unset", () => {
    const v = readEnv(schema, { RATE: "12.5", RETRIES: "0", ENABLED: "off", AT: "09:05:07", IDS: "1, 2", TOKEN: "" });
    expect({ ...v, AT: String(v.AT) }).toEqual({ RATE: 12.5, RETRIES: 0, ENABLED: false, AT: "09:05:07", IDS: [1, 2], TOKEN: undefined });
  });

  test("every bad variable is reported, with an example; secrets are not echoed", () => {
    const e = errorOf(() => readEnv(schema, { RATE: "0", RETRIES: "x", ENABLED: "maybe", IDS: "1,a", TOKEN: "12:no-good!" }));
    expect(e.problems.map((p) => p.path)).toEqual(["RATE", "RETRIES", "ENABLED", "IDS", "TOKEN"]);
    expect(e.message).toContain('RATE="0": must be greater than 0, got 0, e.g. RATE=25');
    expect(e.message).toContain('RETRIES="x": expected a whole number');
    expect(e.message).toContain("TOKEN=<hidden>: expected <digits>:<secret>, e.g. TOKEN=123:abc");
    expect(e.message).not.toContain("no-good");
  });
});

describe("YAML", () => {
  const schema = {
    bot: { username: text({ default: "aprel_booking_bot", example: '"aprel_booking_bot"' }) },
    targets: list(record({ cities: list(text({ example: '"Челябинск"' }), { min: 1, example: '["Челябинск"]' }), priority: int({ min: 1, example: "1" }) }, { example: "{cities: [...], priority: 1}" }), {
      min: 1,
      example: '[{cities: ["Челябинск"], priority: 1}]',
    }),
    texts: { booked: texts({ default: ["Забронировано"], example: '"Забронировано"' }) },
    performance: { max_retries: int({ default: 3, min: 0, example: "3" }), polling_interval_ms: int({ default: 30, min: 1, example: "30" }) },
  };
  const ok = "targets:\n  - cities: [a]\n    priority: 1\n";

  test("defaults, nested sections, lists and a string-or-list", () => {
    const v = readYaml(schema, `${ok}texts:\n  booked: [x, Y]\n`, "c.yaml");
    expect(v.bot.username).toBe("aprel_booking_bot");
    expect(v.targets).toEqual([{ cities: ["a"], priority: 1 }]);
    expect(v.texts.booked).toEqual(["x", "Y"]);
    expect(readYaml(schema, `${ok}texts:\n  booked: z\n`, "c.yaml").texts.booked).toEqual(["z"]);
    expect(v.performance).toEqual({ max_retries: 3, polling_interval_ms: 30 });
  });

  test("a problem names the file, the line, the key's path and an example", () => {
    const e = errorOf(() => readYaml(schema, "targets:\n  - cities: [a]\n    priority: 1\n  - cities: [b]\n    priority: high\n", "c.yaml"));
    expect(e.message).toBe('c.yaml:5: targets[1].priority: expected a whole number, got the string "high". Example: priority: 1');
    expect(e.path).toBe("targets[1].priority");
    expect(e.problems[0]!.line).toBe(5);
  });

  test("unknown keys suggest the close one, else show the section", () => {
    expect(errorOf(() => readYaml(schema, `${ok}performance:\n  max_retires: 1\n`, "c.yaml")).message).toMatch(
      /c\.yaml:5: performance\.max_retires: unknown key \(did you mean "max_retries"\?\).*Example: max_retries: 3$/,
    );
    expect(errorOf(() => readYaml(schema, `${ok}performance:\n  zzz: 1\n`, "c.yaml")).message).toMatch(/Example: performance: \{max_retries: 3/);
  });

  test("missing, empty and wrongly shaped values", () => {
    expect(errorOf(() => readYaml(schema, "bot: {}\n", "c.yaml")).message).toMatch(/^c\.yaml:1: targets: required key is missing\. Example: targets:/);
    expect(errorOf(() => readYaml(schema, `${ok}texts:\n  booked:\n`, "c.yaml")).message).toMatch(/texts\.booked: must not be empty/);
    expect(errorOf(() => readYaml(schema, `${ok}performance: fast\n`, "c.yaml")).message).toMatch(/performance: expected a mapping of keys, got the string "fast"/);
    expect(errorOf(() => readYaml(schema, "targets: [\n", "c.yaml")).message).toMatch(/^c\.yaml:\d+: invalid YAML/);
    expect(errorOf(() => readYaml(schema, "", "c.yaml")).message).toMatch(/the file is empty/);
  });
});
