// The client's config.yaml: parsed, validated and typed in one pass. Every problem is one
// ConfigError naming the key's path, the line, and an example of a valid value.

import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { RecogniseTexts, Target } from "./flow.ts";
import { isValidTimeZone, parseDailyTime, type DailyTime } from "./timing.ts";
import { RECOGNISE } from "./ui.ts";

export const DEFAULTS = {
  botUsername: "aprel_booking_bot",
  pollingIntervalMs: 30,
  maxRetries: 3,
  connectionTimeoutS: 10,
  sessionPath: "sessions/client.session",
  sandboxUrl: "http://127.0.0.1:8081",
} as const;

/** Placeholder values from the seed's example config: treated as "no credentials". */
const PLACEHOLDER_API_IDS = new Set([0]);
const PLACEHOLDER_API_HASHES = new Set(["", "your_api_hash"]);

/** Credentials; the api_hash is kept out of enumeration, JSON and string conversion. */
export class TelegramCredentials {
  readonly #apiHash: string;
  constructor(
    readonly apiId: number,
    apiHash: string,
    readonly phone: string,
  ) {
    this.#apiHash = apiHash;
  }
  get apiHash(): string {
    return this.#apiHash;
  }
  toJSON() {
    return { apiId: this.apiId, apiHash: this.#apiHash ? "<redacted>" : "", phone: maskPhone(this.phone) };
  }
  toString(): string {
    return `TelegramCredentials(api_id=${this.apiId}, phone=${maskPhone(this.phone)})`;
  }
}

export interface ClientConfig {
  /** Where it was read from (file path or a label), for messages. */
  source: string;
  telegram: TelegramCredentials;
  /** No usable api_id/api_hash: talk to the local sandbox at `sandbox.url`. */
  usesSandbox: boolean;
  bot: { username: string };
  targets: Target[];
  booking: {
    /** undefined when not configured; scheduled mode requires it */
    targetTime?: DailyTime;
    /** IANA zone for target_time; undefined = the system's zone */
    timezone?: string;
  };
  performance: { pollingIntervalMs: number; maxRetries: number; connectionTimeoutS: number };
  notifications: { telegramNotify: boolean; soundAlert: boolean };
  session: { path: string };
  texts: RecogniseTexts;
  sandbox: { url: string };
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    /** dotted key path, e.g. "targets[1].priority"; "" for a YAML syntax error */
    readonly path: string,
    problem: string,
    example?: string,
    readonly line?: number,
  ) {
    const where = `${source}${line ? `:${line}` : ""}`;
    super(`${where}: ${path ? `${path}: ` : ""}${problem}${example ? `. Example: ${example}` : ""}`);
    this.name = "ConfigError";
  }
}

type Path = (string | number)[];

export function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

// One example per key, shown in error messages. Keys are paths with list indexes removed.
const EXAMPLES: Record<string, string> = {
  "": "telegram: {...}, bot: {...}, targets: [...] (see the default config.yaml)",
  telegram: 'telegram: {api_id: 12345678, api_hash: "0123456789abcdef0123456789abcdef", phone: "+79991234567"}',
  "telegram.api_id": "api_id: 12345678 (from my.telegram.org; leave it out to use the sandbox)",
  "telegram.api_hash": 'api_hash: "0123456789abcdef0123456789abcdef" (from my.telegram.org)',
  "telegram.phone": 'phone: "+79991234567" (quoted)',
  bot: `bot: {username: "${DEFAULTS.botUsername}"}`,
  "bot.username": `username: "${DEFAULTS.botUsername}" (without @)`,
  targets: 'targets: [{cities: ["Челябинск"], priority: 1}]',
  "targets[]": '{cities: ["Челябинск"], priority: 1}',
  "targets[].cities": 'cities: ["Челябинск", "Екатеринбург"]',
  "targets[].cities[]": '"Челябинск"',
  "targets[].priority": "priority: 1 (1 is tried first)",
  booking: 'booking: {target_time: "11:30:00"}',
  "booking.target_time": 'target_time: "11:30:00"',
  "booking.timezone": 'timezone: "Asia/Yekaterinburg"',
  performance: "performance: {polling_interval_ms: 30, max_retries: 3, connection_timeout: 10}",
  "performance.polling_interval_ms": "polling_interval_ms: 30",
  "performance.max_retries": "max_retries: 3",
  "performance.connection_timeout": "connection_timeout: 10 (seconds)",
  notifications: "notifications: {telegram_notify: true, sound_alert: true}",
  "notifications.telegram_notify": "telegram_notify: true",
  "notifications.sound_alert": "sound_alert: false",
  session: `session: {path: "${DEFAULTS.sessionPath}"}`,
  "session.path": `path: "${DEFAULTS.sessionPath}"`,
  texts: `texts: {booked: "${RECOGNISE.booked}"}`,
  sandbox: `sandbox: {url: "${DEFAULTS.sandboxUrl}"}`,
  "sandbox.url": `url: "${DEFAULTS.sandboxUrl}"`,
};

// YAML key (snake_case) -> RECOGNISE key
const TEXT_KEYS: Record<string, keyof RecogniseTexts> = {
  announcement: "announcement",
  confirm_button: "confirmButton",
  booked: "booked",
  sold_out: "soldOut",
  not_open: "notOpen",
  already_booked: "alreadyBooked",
};
for (const [yamlKey, key] of Object.entries(TEXT_KEYS)) EXAMPLES[`texts.${yamlKey}`] = `${yamlKey}: "${RECOGNISE[key]}"`;

const SECTIONS: Record<string, string[]> = {
  "": ["telegram", "bot", "targets", "booking", "performance", "notifications", "session", "texts", "sandbox"],
  telegram: ["api_id", "api_hash", "phone"],
  bot: ["username"],
  "targets[]": ["cities", "priority"],
  booking: ["target_time", "timezone"],
  performance: ["polling_interval_ms", "max_retries", "connection_timeout"],
  notifications: ["telegram_notify", "sound_alert"],
  session: ["path"],
  texts: Object.keys(TEXT_KEYS),
  sandbox: ["url"],
};

type Obj = Record<string, unknown>;

/** The example for a path (list indexes ignored), else for its nearest enclosing section. */
function exampleOf(path: Path): string | undefined {
  for (let n = path.length; n >= 0; n--) {
    const key = formatPath(path.slice(0, n)).replace(/\[\d+\]/g, "[]");
    if (EXAMPLES[key]) return EXAMPLES[key];
  }
  return undefined;
}

class Validator {
  constructor(
    private readonly source: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** `exampleFor`: the path whose example to show (default: `path`, else its nearest section that has one). */
  fail(path: Path, problem: string, exampleFor: Path = path): never {
    const dotted = formatPath(path);
    throw new ConfigError(this.source, dotted, problem, exampleOf(exampleFor), this.lineOf(path));
  }

  /** The line of the key (or list item) at `path`; for a missing key, of the deepest part that exists. */
  private lineOf(path: Path): number | undefined {
    let node: unknown = this.doc.contents;
    let range = (node as { range?: number[] } | null)?.range;
    for (const seg of path) {
      let next: { range?: number[] } | undefined;
      let at: number[] | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
        next = pair?.value as typeof next;
        at = (pair?.key as typeof next)?.range;
      } else if (isSeq(node) && typeof seg === "number") {
        next = node.items[seg] as typeof next;
        at = next?.range;
      }
      if (!at) break;
      range = at;
      node = next;
    }
    return range ? this.lines.linePos(range[0]!).line : undefined;
  }

  /** A mapping (or absent: {}), with no keys outside `allowed`. */
  section(value: unknown, path: Path, sectionKey: string): Obj {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) this.fail(path, `expected a mapping of keys, got ${describe(value)}`);
    const allowed = SECTIONS[sectionKey]!;
    for (const key of Object.keys(value as Obj)) {
      if (!allowed.includes(key)) {
        const hint = suggest(key, allowed);
        // The example is the suggested key's, else the section's (which shows its allowed keys).
        this.fail([...path, key], `unknown key${hint ? ` (did you mean "${hint}"?)` : ""}; allowed here: ${allowed.join(", ")}`, hint ? [...path, hint] : path);
      }
    }
    return value as Obj;
  }

  /** `secret`: never echo the value in a message. */
  string(value: unknown, path: Path, fallback?: string, secret = false): string {
    if (value === undefined || value === null) {
      if (fallback === undefined) this.fail(path, "required key is missing");
      return fallback;
    }
    if (typeof value !== "string") this.fail(path, `expected a string, got ${secret ? `a ${typeof value}` : describe(value)}; quote it`);
    return value;
  }

  nonEmptyString(value: unknown, path: Path, fallback?: string): string {
    const s = this.string(value, path, fallback);
    if (s.trim() === "") this.fail(path, "must not be empty");
    return s;
  }

  int(value: unknown, path: Path, min: number, fallback?: number): number {
    if (value === undefined || value === null) {
      if (fallback === undefined) this.fail(path, "required key is missing");
      return fallback;
    }
    if (typeof value !== "number" || !Number.isInteger(value)) this.fail(path, `expected a whole number, got ${describe(value)}`);
    if (value < min) this.fail(path, `must be at least ${min}, got ${value}`);
    return value;
  }

  positiveNumber(value: unknown, path: Path, fallback: number): number {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value)) this.fail(path, `expected a number, got ${describe(value)}`);
    if (value <= 0) this.fail(path, `must be greater than 0, got ${value}`);
    return value;
  }

  bool(value: unknown, path: Path, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") this.fail(path, `expected true or false, got ${describe(value)}`);
    return value;
  }

  list(value: unknown, path: Path): unknown[] {
    if (value === undefined || value === null) this.fail(path, "required key is missing");
    if (!Array.isArray(value)) this.fail(path, `expected a list, got ${describe(value)}`);
    if (value.length === 0) this.fail(path, "must list at least one entry");
    return value;
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "nothing";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value === "number" ? "the number" : typeof value} ${String(value)}`;
}

/** A close allowed key for a typo: same letters ignoring case, - and _; two edits away; or a prefix. */
function suggest(key: string, allowed: string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
  return (
    allowed.find((a) => norm(a) === norm(key)) ??
    allowed.find((a) => editDistance(a, key) <= 2) ??
    allowed.find((a) => key.length >= 3 && (a.startsWith(key) || key.startsWith(a)))
  );
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

export function parseClientConfig(yamlText: string, sourceName: string): ClientConfig {
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = lines.linePos(syntax.pos[0]).line;
    throw new ConfigError(sourceName, "", `invalid YAML: ${syntax.message.split("\n")[0]}`, undefined, line);
  }
  const v = new Validator(sourceName, doc, lines);
  const root = doc.toJS() as unknown;
  if (root === null || root === undefined) v.fail([], "the file is empty; at least `targets` is required");
  if (!isMap(doc.contents)) v.fail([], `expected a mapping of sections at the top, got ${describe(root)}`);
  const top = v.section(root, [], "");

  // telegram
  const tg = v.section(top.telegram, ["telegram"], "telegram");
  const apiId = v.int(tg.api_id, ["telegram", "api_id"], 0, 0);
  const apiHash = v.string(tg.api_hash, ["telegram", "api_hash"], "", true);
  const phone = v.string(tg.phone, ["telegram", "phone"], "");
  const hasId = !PLACEHOLDER_API_IDS.has(apiId);
  const hasHash = !PLACEHOLDER_API_HASHES.has(apiHash.trim());
  if (hasId && !hasHash) v.fail(["telegram", "api_hash"], "telegram.api_id is set, so a real api_hash is required too (or remove both to use the sandbox)");
  if (hasHash && !hasId) v.fail(["telegram", "api_id"], "telegram.api_hash is set, so a real api_id is required too (or remove both to use the sandbox)");

  // bot
  const bot = v.section(top.bot, ["bot"], "bot");
  const username = v.nonEmptyString(bot.username, ["bot", "username"], DEFAULTS.botUsername).trim();
  if (username.startsWith("@")) v.fail(["bot", "username"], `write it without the leading @: "${username.slice(1)}"`);
  if (!/^[A-Za-z][A-Za-z0-9_]{3,31}$/.test(username)) v.fail(["bot", "username"], `"${username}" is not a Telegram username (5-32 letters, digits, _)`);

  // targets
  const targets = v.list(top.targets, ["targets"]).map((raw, i): Target => {
    const path: Path = ["targets", i];
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) v.fail(path, `expected a mapping with cities and priority, got ${describe(raw)}`);
    const t = v.section(raw, path, "targets[]");
    const cities = v.list(t.cities, [...path, "cities"]).map((c, j) => v.nonEmptyString(c, [...path, "cities", j]).trim());
    return { cities, priority: v.int(t.priority, [...path, "priority"], 1) };
  });

  // booking
  const booking = v.section(top.booking, ["booking"], "booking");
  let targetTime: DailyTime | undefined;
  if (booking.target_time !== undefined && booking.target_time !== null) {
    if (typeof booking.target_time === "number") {
      v.fail(["booking", "target_time"], "got a number: quote the time so YAML keeps it as text");
    }
    const text = v.string(booking.target_time, ["booking", "target_time"]);
    try {
      targetTime = parseDailyTime(text);
    } catch (e) {
      v.fail(["booking", "target_time"], (e as Error).message);
    }
  }
  let timezone: string | undefined;
  if (booking.timezone !== undefined && booking.timezone !== null) {
    timezone = v.nonEmptyString(booking.timezone, ["booking", "timezone"]).trim();
    if (!isValidTimeZone(timezone)) v.fail(["booking", "timezone"], `unknown time zone "${timezone}" (use an IANA name)`);
  }

  // performance
  const perf = v.section(top.performance, ["performance"], "performance");
  const performance = {
    pollingIntervalMs: v.int(perf.polling_interval_ms, ["performance", "polling_interval_ms"], 1, DEFAULTS.pollingIntervalMs),
    maxRetries: v.int(perf.max_retries, ["performance", "max_retries"], 0, DEFAULTS.maxRetries),
    connectionTimeoutS: v.positiveNumber(perf.connection_timeout, ["performance", "connection_timeout"], DEFAULTS.connectionTimeoutS),
  };

  // notifications
  const notif = v.section(top.notifications, ["notifications"], "notifications");
  const notifications = {
    telegramNotify: v.bool(notif.telegram_notify, ["notifications", "telegram_notify"], true),
    soundAlert: v.bool(notif.sound_alert, ["notifications", "sound_alert"], true),
  };

  // session
  const session = v.section(top.session, ["session"], "session");
  const sessionPath = v.nonEmptyString(session.path, ["session", "path"], DEFAULTS.sessionPath);

  // texts: an empty pattern would match every message, so it is refused
  const textsIn = v.section(top.texts, ["texts"], "texts");
  const texts: RecogniseTexts = { ...RECOGNISE };
  for (const [yamlKey, key] of Object.entries(TEXT_KEYS)) {
    if (!(yamlKey in textsIn)) continue; // absent: the bot's own text
    // Present but empty (`booked:` or `booked: ""`) is a mistake, not a request for the default.
    const value = textsIn[yamlKey];
    if (value === null) v.fail(["texts", yamlKey], "must not be empty (write the text, or remove the key to use the default)");
    texts[key] = v.nonEmptyString(value, ["texts", yamlKey]);
  }

  // sandbox
  const sandbox = v.section(top.sandbox, ["sandbox"], "sandbox");
  const url = v.nonEmptyString(sandbox.url, ["sandbox", "url"], DEFAULTS.sandboxUrl).trim();
  if (!/^https?:\/\/[^/]+/.test(url) || !URL.canParse(url)) v.fail(["sandbox", "url"], `"${url}" is not an http(s) URL`);

  return {
    source: sourceName,
    telegram: new TelegramCredentials(apiId, apiHash.trim(), phone.trim()),
    usesSandbox: !hasId && !hasHash,
    bot: { username },
    targets,
    booking: { targetTime, timezone },
    performance,
    notifications,
    session: { path: sessionPath },
    texts,
    sandbox: { url: url.replace(/\/+$/, "") },
  };
}

export function loadClientConfig(path: string): ClientConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" ? "file not found (start from the default config.yaml in the repository)" : `cannot read the file (${code ?? String(e)})`;
    throw new ConfigError(path, "", problem);
  }
  return parseClientConfig(text, path);
}

function maskPhone(phone: string): string {
  return phone.length <= 4 ? phone.replace(/./g, "*") : `${"*".repeat(phone.length - 4)}${phone.slice(-4)}`;
}

/** A plain copy that is safe to log: api_hash redacted, phone masked. */
export function redactedConfig(cfg: ClientConfig): Omit<ClientConfig, "telegram"> & { telegram: ReturnType<TelegramCredentials["toJSON"]> } {
  return { ...cfg, telegram: cfg.telegram.toJSON() };
}
