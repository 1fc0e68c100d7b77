// The client's config.yaml: each key declared once (kind, default, example) with lib/settings.ts,
// which reads, validates and reports the first problem with its path, line and an example.

import { readFileSync } from "node:fs";
import { DEFAULT_FLOW_CONFIG, type RecogniseTexts } from "../flow.ts";
import { bool, ConfigError, dailyTime, httpUrl, int, Invalid, list, num, optional, readYaml, record, text, texts, timeZone, type Setting } from "../settings.ts";
import { RECOGNISE, SOLD_OUT_LABELS } from "../ui.ts";

export const DEFAULT_BOT = "aprel_booking_bot";
export const DEFAULT_SANDBOX_URL = "http://127.0.0.1:8081";

// The seed's example config's placeholder means "no credentials": the sandbox.
const PLACEHOLDER_HASHES = ["", "your_api_hash"];

const anyText = text({ example: "" });
const username: Setting<string> = {
  default: DEFAULT_BOT,
  example: `"${DEFAULT_BOT}" (without @)`,
  read(raw, from) {
    const name = anyText.read(raw, from);
    if (name.startsWith("@")) throw new Invalid(`write it without the leading @: "${name.slice(1)}"`);
    if (!/^[A-Za-z][A-Za-z0-9_]{3,31}$/.test(name)) throw new Invalid(`"${name}" is not a Telegram username (5-32 letters, digits, _)`);
    return name;
  },
};

const recognise = (key: keyof typeof RECOGNISE) => texts({ default: [RECOGNISE[key]], example: `"${RECOGNISE[key]}" or a list: ["${RECOGNISE[key]}", "..."]` });

const SCHEMA = {
  telegram: {
    api_id: int({ default: 0, min: 0, example: "12345678 (from my.telegram.org; leave it out to use the sandbox)" }),
    api_hash: text({ default: "", empty: true, example: '"0123456789abcdef0123456789abcdef" (from my.telegram.org)', secret: true }),
    phone: text({ default: "", empty: true, example: '"+79991234567" (quoted)' }),
  },
  bot: { username },
  targets: list(
    record(
      {
        cities: list(text({ example: '"Челябинск"' }), { min: 1, example: '["Челябинск", "Екатеринбург"]' }),
        priority: int({ min: 1, example: "1 (1 is tried first)" }),
      },
      { example: '{cities: ["Челябинск"], priority: 1}' },
    ),
    { min: 1, example: '[{cities: ["Челябинск"], priority: 1}]' },
  ),
  booking: {
    target_time: optional(dailyTime({ example: '"11:30:00"' })),
    timezone: optional(timeZone({ example: '"Asia/Yekaterinburg"' })),
  },
  performance: {
    polling_interval_ms: int({ default: 30, min: 1, example: "30" }),
    max_retries: int({ default: 3, min: 0, example: "3" }),
    connection_timeout: num({ default: 10, above: 0, example: "10 (seconds)" }),
  },
  notifications: {
    telegram_notify: bool({ default: true, example: "true" }),
    sound_alert: bool({ default: true, example: "false" }),
  },
  session: { path: text({ default: "sessions/client.session", example: '"sessions/client.session"' }) },
  texts: {
    announcement: recognise("announcement"),
    confirm_button: recognise("confirmButton"),
    booked: recognise("booked"),
    sold_out: recognise("soldOut"),
    not_open: recognise("notOpen"),
    already_booked: recognise("alreadyBooked"),
    sold_out_button: texts({ default: SOLD_OUT_LABELS, example: `["нет мест", "мест нет", "0 мест"]` }),
  },
  sandbox: { url: httpUrl({ default: DEFAULT_SANDBOX_URL, example: `"${DEFAULT_SANDBOX_URL}"` }) },
};

/** api_hash behind a getter: out of JSON, inspection and string conversion. */
function telegramCredentials(apiId: number, apiHash: string, phone: string) {
  const masked = phone.length <= 4 ? "*".repeat(phone.length) : "*".repeat(phone.length - 4) + phone.slice(-4);
  return {
    apiId,
    phone,
    get apiHash() {
      return apiHash;
    },
    toJSON: () => ({ apiId, apiHash: apiHash ? "<redacted>" : "", phone: masked }),
    toString: () => `TelegramCredentials(api_id=${apiId}, phone=${masked})`,
  };
}

export type ClientConfig = ReturnType<typeof parseClientConfig>;

export function parseClientConfig(yamlText: string, source: string) {
  const v = readYaml(SCHEMA, yamlText, source);
  const { api_id: apiId, api_hash: apiHash, phone } = v.telegram;
  const hasId = apiId !== 0;
  const hasHash = !PLACEHOLDER_HASHES.includes(apiHash);
  const half = (key: string, other: string) =>
    new ConfigError([{ path: `telegram.${key}`, text: `${source}: telegram.${key}: telegram.${other} is set, so a real ${key} is required too (or remove both to use the sandbox). Example: ${key}: ${SCHEMA.telegram[key as "api_id"].example}` }]);
  if (hasId && !hasHash) throw half("api_hash", "api_id");
  if (hasHash && !hasId) throw half("api_id", "api_hash");
  const t = v.texts;
  // The flow's texts are named as lib/ui.ts's RECOGNISE; every other value keeps its config.yaml name.
  const texts = { announcement: t.announcement, confirmButton: t.confirm_button, booked: t.booked, soldOut: t.sold_out, notOpen: t.not_open, alreadyBooked: t.already_booked, soldOutButton: t.sold_out_button };
  return { ...v, source, telegram: telegramCredentials(apiId, apiHash, phone), usesSandbox: !hasId && !hasHash, texts };
}

export function loadClientConfig(path: string): ClientConfig {
  let yamlText: string;
  try {
    yamlText = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" ? "file not found (start from the default config.yaml in the repository)" : `cannot read the file (${code ?? String(e)})`;
    throw new ConfigError([{ path: "", text: `${path}: ${problem}` }]);
  }
  return parseClientConfig(yamlText, path);
}

/** Our bot (its username or its texts): the only one with a 🧪 Тест button to rehearse with. */
export function looksLikeOurBot(cfg: ClientConfig): boolean {
  const sameTexts = Object.entries(DEFAULT_FLOW_CONFIG.texts).every(([k, v]) => JSON.stringify(cfg.texts[k as keyof RecogniseTexts]) === JSON.stringify(v));
  return cfg.bot.username === DEFAULT_BOT || sameTexts;
}

