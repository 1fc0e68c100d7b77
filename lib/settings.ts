// One way to declare a setting (how to read it, its default, an example) and one ConfigError, for
// the bot's environment variables and the client's config.yaml. A schema maps keys to settings or,
// in YAML, to nested sections.

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import { isValidTimeZone, parseDailyTime } from "./timing.ts";

/** `path`: e.g. "BOT_TOKEN" or "targets[1].priority"; `line`: in a YAML file; `text`: the whole message. */
export type Problem = { path: string; line?: number; text: string };

export class ConfigError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map((p) => p.text).join("\n"));
    this.name = "ConfigError";
  }
  /** The first problem's key path ("" for a YAML syntax error). */
  get path(): string {
    return this.problems[0]?.path ?? "";
  }
}

/** A bad value; the message says what was expected. The path inside a list or section is added on the way up. */
export class Invalid extends Error {
  constructor(message: string, readonly path: (string | number)[] = [], public example?: string) {
    super(message);
  }
}

type From = "env" | "yaml";

export interface Setting<T> {
  read(raw: unknown, from: From): T;
  default?: T;
  /** absent means undefined rather than "required key is missing" */
  optional?: boolean;
  /** a valid value as it is written, shown in errors */
  example: string;
  /** never echo the value */
  secret?: boolean;
}

type Options<T> = Pick<Setting<T>, "default" | "example" | "secret">;

export type Schema = { [key: string]: Setting<unknown> | Schema };

export type Values<S> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : S[K] extends Schema ? Values<S[K]> : never };

const isSetting = (x: unknown): x is Setting<unknown> => typeof (x as Setting<unknown>)?.read === "function";

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null || value === undefined) return "nothing";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value === "number" ? "the number" : typeof value} ${String(value)}`;
}

/** Whatever `read` throws is a bad value (parseDailyTime's message, say). */
function setting<T>(o: Options<T>, read: Setting<T>["read"]): Setting<T> {
  return {
    ...o,
    read(raw, from) {
      try {
        return read(raw, from);
      } catch (e) {
        throw e instanceof Invalid ? e : new Invalid((e as Error).message);
      }
    },
  };
}

export function optional<T>(s: Setting<T>): Setting<T | undefined> {
  return { ...s, optional: true };
}

/** A string, trimmed; `empty`: "" is a value (e.g. a placeholder), not a mistake. */
export function text(o: Options<string> & { pattern?: RegExp; hint?: string; empty?: boolean }): Setting<string> {
  return setting(o, (raw) => {
    if (typeof raw !== "string") throw new Invalid(`expected a string, got ${o.secret ? `a ${typeof raw}` : describe(raw)}; quote it`);
    const s = raw.trim();
    if (!s && !o.empty) throw new Invalid("must not be empty");
    if (o.pattern && !o.pattern.test(s)) throw new Invalid(o.hint ?? `${JSON.stringify(s)} is not valid`);
    return s;
  });
}

/** A number; `above`: strictly greater than; `whole`: an integer. */
export function num(o: Options<number> & { whole?: boolean; min?: number; above?: number; max?: number }): Setting<number> {
  return setting(o, (raw, from) => {
    const pattern = o.whole ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/;
    const n = from === "env" && typeof raw === "string" && pattern.test(raw) ? Number(raw) : raw;
    if (typeof n !== "number" || !Number.isFinite(n) || (o.whole && !Number.isInteger(n))) {
      throw new Invalid(`expected a ${o.whole ? "whole number" : "number"}, got ${describe(raw)}`);
    }
    if (o.min !== undefined && n < o.min) throw new Invalid(`must be at least ${o.min}, got ${n}`);
    if (o.above !== undefined && n <= o.above) throw new Invalid(`must be greater than ${o.above}, got ${n}`);
    if (o.max !== undefined && n > o.max) throw new Invalid(`must be at most ${o.max}, got ${n}`);
    return n;
  });
}

export function int(o: Options<number> & { min?: number; max?: number }): Setting<number> {
  return num({ ...o, whole: true });
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

export function bool(o: Options<boolean>): Setting<boolean> {
  return setting(o, (raw, from) => {
    if (typeof raw === "boolean") return raw;
    const s = from === "env" ? String(raw).toLowerCase() : "";
    if (TRUE.includes(s)) return true;
    if (FALSE.includes(s)) return false;
    throw new Invalid(`expected true or false, got ${describe(raw)}`);
  });
}

export function dailyTime(o: Options<Temporal.PlainTime>): Setting<Temporal.PlainTime> {
  return setting(o, (raw) => {
    if (typeof raw === "number") throw new Invalid("got a number: quote the time so YAML keeps it as text");
    if (typeof raw !== "string") throw new Invalid(`expected a time, got ${describe(raw)}`);
    return parseDailyTime(raw);
  });
}

export function timeZone(o: Options<string>): Setting<string> {
  const t = text(o);
  return setting(o, (raw, from) => {
    const tz = t.read(raw, from).replace(/^:/, "");
    if (!isValidTimeZone(tz)) throw new Invalid(`unknown time zone "${tz}" (use an IANA name)`);
    return tz;
  });
}

export function httpUrl(o: Options<string>): Setting<string> {
  const t = text(o);
  return setting(o, (raw, from) => {
    const url = t.read(raw, from).replace(/\/+$/, "");
    if (!/^https?:\/\/[^/]+/.test(url) || !URL.canParse(url)) throw new Invalid(`"${url}" is not an http(s) URL`);
    return url;
  });
}

export function oneOf<V extends string>(values: readonly V[], o: Options<V>): Setting<V> {
  return setting(o, (raw) => {
    const s = typeof raw === "string" ? raw.trim().toLowerCase() : raw;
    if (!values.includes(s as V)) throw new Invalid(`expected one of ${values.join(", ")}, got ${describe(raw)}`);
    return s as V;
  });
}

/** A list of items; in the environment, comma-separated. */
export function list<T>(item: Setting<T>, o: Options<T[]> & { min?: number }): Setting<T[]> {
  return setting(o, (raw, from) => {
    const items = from === "env" && typeof raw === "string" ? raw.split(",").map((s) => s.trim()).filter(Boolean) : raw;
    if (!Array.isArray(items)) throw new Invalid(`expected a list, got ${describe(raw)}`);
    if (items.length < (o.min ?? 0)) throw new Invalid(o.min === 1 ? "must list at least one entry" : `must list at least ${o.min} entries`);
    return items.map((x, i) => at(i, () => item.read(x, from), item.example));
  });
}

/** A string or a list of strings (each non-empty). */
export function texts(o: Options<string[]>): Setting<string[]> {
  const one = text({ example: o.example });
  return setting(o, (raw, from) => (Array.isArray(raw) ? list(one, { ...o, min: 1 }).read(raw, from) : [one.read(raw, from)]));
}

/** A mapping with the schema's keys (e.g. one entry of a list). */
export function record<S extends Schema>(schema: S, o: Options<Values<S>>): Setting<Values<S>> {
  return setting(o, (raw) => {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Invalid(`expected a mapping, got ${describe(raw)}`);
    return readSection(schema, raw as Record<string, unknown>);
  });
}

/** Reads the value at `key`: a problem inside gets the key prepended to its path. */
function at<T>(key: string | number, read: () => T, example?: string): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof Invalid) {
      e.path.unshift(key);
      e.example ??= example;
    }
    throw e;
  }
}

/** Absent: the default (or undefined, or "required"); present but empty (YAML `key:`): a mistake. */
function readValue<T>(s: Setting<T>, raw: unknown, from: From): T | undefined {
  if (raw === undefined) {
    if (s.default !== undefined || s.optional) return s.default;
    throw new Invalid("required key is missing");
  }
  if (raw === null) throw new Invalid("must not be empty (write the value, or remove the key to use the default)");
  return s.read(raw, from);
}

/** `name`: the section's own key, for the example of an unknown key (undefined at the top). */
function readSection<S extends Schema>(schema: S, raw: Record<string, unknown>, name?: string): Values<S> {
  const allowed = Object.keys(schema);
  for (const key of Object.keys(raw)) {
    if (key in schema) continue;
    const hint = suggest(key, allowed);
    const example = hint ? exampleOf(schema[hint]!, hint) : sectionExample(schema, name);
    throw new Invalid(`unknown key${hint ? ` (did you mean "${hint}"?)` : ""}; allowed here: ${allowed.join(", ")}`, [key], example);
  }
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(schema)) {
    const v = raw[key];
    if (isSetting(s)) {
      out[key] = at(key, () => readValue(s, v, "yaml"), exampleOf(s, key));
    } else if (v !== undefined && v !== null && (typeof v !== "object" || Array.isArray(v))) {
      throw new Invalid(`expected a mapping of keys, got ${describe(v)}`, [key], sectionExample(s, key));
    } else {
      out[key] = at(key, () => readSection(s, (v ?? {}) as Record<string, unknown>, key));
    }
  }
  return out as Values<S>;
}

const exampleOf = (s: Setting<unknown> | Schema, key: string) => (isSetting(s) ? `${key}: ${s.example}` : sectionExample(s, key));

function sectionExample(s: Schema, key?: string): string {
  const parts = Object.entries(s)
    .filter(([, v]) => !isSetting(v) || !v.optional)
    .slice(0, 3)
    .map(([k, v]) => (isSetting(v) ? `${k}: ${v.example}` : `${k}: {...}`));
  return key === undefined ? parts.join(", ") : `${key}: {${parts.join(", ")}}`;
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
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Environment variables (empty = unset). Every bad one is reported: `NAME="value": problem, e.g. NAME=example`. */
export function readEnv<S extends Record<string, Setting<unknown>>>(schema: S, env: Record<string, string | undefined>): Values<S> {
  const out: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const [name, s] of Object.entries(schema)) {
    const raw = env[name]?.trim() || undefined;
    try {
      out[name] = readValue(s, raw, "env");
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      const shown = raw === undefined ? "" : `=${s.secret ? "<hidden>" : JSON.stringify(raw)}`;
      problems.push({ path: name, text: `${name}${shown}: ${e.message}, e.g. ${name}=${s.example}` });
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as Values<S>;
}

/** A YAML file. Its first problem is reported as `source:line: path: problem. Example: ...`. */
export function readYaml<S extends Schema>(schema: S, yamlText: string, source: string): Values<S> {
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = lines.linePos(syntax.pos[0]).line;
    throw new ConfigError([{ path: "", line, text: `${source}:${line}: invalid YAML: ${syntax.message.split("\n")[0]}` }]);
  }
  const root = doc.toJS() as unknown;
  try {
    if (root === null || root === undefined) throw new Invalid("the file is empty");
    if (!isMap(doc.contents)) throw new Invalid(`expected a mapping of sections at the top, got ${describe(root)}`);
    return readSection(schema, root as Record<string, unknown>);
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    const line = lineOf(doc, lines, e.path);
    const path = e.path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
    const example = e.example ?? (e.path.length ? undefined : sectionExample(schema));
    const text = `${source}${line ? `:${line}` : ""}: ${path ? `${path}: ` : ""}${e.message}${example ? `. Example: ${example}` : ""}`;
    throw new ConfigError([{ path, line, text }]);
  }
}

/** The line of the key at `path`, or of the deepest part of the path that exists. */
function lineOf(doc: Document, lines: LineCounter, path: (string | number)[]): number | undefined {
  let range: number[] | undefined = doc.contents?.range ?? undefined;
  for (let n = 1; n <= path.length; n++) {
    const parent = doc.getIn(path.slice(0, n - 1), true);
    const seg = path[n - 1];
    const node = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === seg)?.key : isSeq(parent) ? parent.items[seg as number] : undefined;
    const at = (node as { range?: number[] } | undefined)?.range;
    if (!at) break;
    range = at;
  }
  return range ? lines.linePos(range[0]!).line : undefined;
}
