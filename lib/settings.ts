// One way to declare a setting (how to read it, its default, an example) and one ConfigError,
// for the bot's environment variables and the client's config.yaml alike. A schema is an object
// whose values are settings or, in YAML, nested sections.

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import { isValidTimeZone, parseDailyTime, type DailyTime } from "./timing.ts";

export interface Problem {
  /** e.g. "BOT_TOKEN" or "targets[1].priority" */
  path: string;
  /** the line in a YAML file */
  line?: number;
  /** the whole message for this problem, as printed */
  text: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map((p) => p.text).join("\n"));
    this.name = "ConfigError";
  }
  /** The first problem's key path ("" for a YAML syntax error). (JSC sets `line` on every Error: use problems[0].line.) */
  get path(): string {
    return this.problems[0]?.path ?? "";
  }
}

/** A bad value; the message says what was expected. */
export class Invalid extends Error {}

type From = "env" | "yaml";

export interface Setting<T> {
  read(raw: unknown, from: From): T;
  default?: T;
  /** absent means undefined, not "required key is missing" (see optional()) */
  optional?: boolean;
  /** a valid value as it is written, shown in errors */
  example: string;
  /** never echo the value */
  secret?: boolean;
}

interface Options<T> {
  default?: T;
  example: string;
  secret?: boolean;
}

export type Schema = { [key: string]: Setting<unknown> | Schema };

export type Values<S> = {
  [K in keyof S]: S[K] extends Setting<infer T> ? T : S[K] extends Schema ? Values<S[K]> : never;
};

const isSetting = (x: unknown): x is Setting<unknown> => typeof (x as Setting<unknown>)?.read === "function";

export function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null || value === undefined) return "nothing";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value === "number" ? "the number" : typeof value} ${String(value)}`;
}

function kind<T>(o: Options<T>, read: (raw: unknown, from: From) => T): Setting<T> {
  return { ...o, read };
}

// ---- kinds ----

/** The same setting, but absent means undefined. */
export function optional<T>(s: Setting<T>): Setting<T | undefined> {
  return { ...s, optional: true };
}

/** A string, trimmed; `empty`: "" is a value (e.g. a placeholder), not a mistake. */
export function text(o: Options<string> & { pattern?: RegExp; hint?: string; empty?: boolean }): Setting<string> {
  return kind(o, (raw) => {
    if (typeof raw !== "string") throw new Invalid(`expected a string, got ${o.secret ? `a ${typeof raw}` : describe(raw)}; quote it`);
    const s = raw.trim();
    if (!s && !o.empty) throw new Invalid("must not be empty");
    if (o.pattern && !o.pattern.test(s)) throw new Invalid(o.hint ?? `${JSON.stringify(s)} is not valid`);
    return s;
  });
}

function number(raw: unknown, from: From, whole: boolean): number {
  const pattern = whole ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/;
  const n = from === "env" && typeof raw === "string" && pattern.test(raw) ? Number(raw) : raw;
  if (typeof n !== "number" || !Number.isFinite(n) || (whole && !Number.isInteger(n))) {
    throw new Invalid(`expected a ${whole ? "whole number" : "number"}, got ${describe(raw)}`);
  }
  return n;
}

export function int(o: Options<number> & { min?: number; max?: number }): Setting<number> {
  return kind(o, (raw, from) => {
    const n = number(raw, from, true);
    if (o.min !== undefined && n < o.min) throw new Invalid(`must be at least ${o.min}, got ${n}`);
    if (o.max !== undefined && n > o.max) throw new Invalid(`must be at most ${o.max}, got ${n}`);
    return n;
  });
}

/** A number; `above`: strictly greater than. */
export function num(o: Options<number> & { above?: number; max?: number }): Setting<number> {
  return kind(o, (raw, from) => {
    const n = number(raw, from, false);
    if (o.above !== undefined && n <= o.above) throw new Invalid(`must be greater than ${o.above}, got ${n}`);
    if (o.max !== undefined && n > o.max) throw new Invalid(`must be at most ${o.max}, got ${n}`);
    return n;
  });
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

export function bool(o: Options<boolean>): Setting<boolean> {
  return kind(o, (raw, from) => {
    if (typeof raw === "boolean") return raw;
    const s = from === "env" && typeof raw === "string" ? raw.toLowerCase() : undefined;
    if (s !== undefined && TRUE.includes(s)) return true;
    if (s !== undefined && FALSE.includes(s)) return false;
    throw new Invalid(`expected true or false, got ${describe(raw)}`);
  });
}

export function dailyTime(o: Options<DailyTime>): Setting<DailyTime> {
  return kind(o, (raw) => {
    if (typeof raw === "number") throw new Invalid("got a number: quote the time so YAML keeps it as text");
    if (typeof raw !== "string") throw new Invalid(`expected a time, got ${describe(raw)}`);
    try {
      return parseDailyTime(raw);
    } catch (e) {
      throw new Invalid((e as Error).message);
    }
  });
}

export function timeZone(o: Options<string>): Setting<string> {
  const t = text(o);
  return kind(o, (raw, from) => {
    const tz = t.read(raw, from).replace(/^:/, "");
    if (!isValidTimeZone(tz)) throw new Invalid(`unknown time zone "${tz}" (use an IANA name)`);
    return tz;
  });
}

export function httpUrl(o: Options<string>): Setting<string> {
  const t = text(o);
  return kind(o, (raw, from) => {
    const url = t.read(raw, from).replace(/\/+$/, "");
    if (!/^https?:\/\/[^/]+/.test(url) || !URL.canParse(url)) throw new Invalid(`"${url}" is not an http(s) URL`);
    return url;
  });
}

export function oneOf<V extends string>(values: readonly V[], o: Options<V>): Setting<V> {
  return kind(o, (raw) => {
    const s = typeof raw === "string" ? raw.trim().toLowerCase() : raw;
    if (!values.includes(s as V)) throw new Invalid(`expected one of ${values.join(", ")}, got ${describe(raw)}`);
    return s as V;
  });
}

/** A list of items; in the environment, comma-separated. Item problems name their index. */
export function list<T>(item: Setting<T>, o: Options<T[]> & { min?: number }): Setting<T[]> {
  return kind(o, (raw, from) => {
    const items = from === "env" && typeof raw === "string" ? raw.split(",").map((s) => s.trim()).filter(Boolean) : raw;
    if (!Array.isArray(items)) throw new Invalid(`expected a list, got ${describe(raw)}`);
    if (items.length < (o.min ?? 0)) throw new Invalid(o.min === 1 ? "must list at least one entry" : `must list at least ${o.min} entries`);
    return items.map((x, i) => atIndex(i, () => item.read(x, from), item.example));
  });
}

/** A string or a list of strings (each non-empty). */
export function texts(o: Options<string[]>): Setting<string[]> {
  const one = text({ example: o.example });
  return kind(o, (raw, from) => (Array.isArray(raw) ? list(one, { ...o, min: 1 }).read(raw, from) : [one.read(raw, from)]));
}

/** A mapping with the schema's keys (e.g. one entry of a list). */
export function record<S extends Schema>(schema: S, o: Options<Values<S>>): Setting<Values<S>> {
  return kind(o, (raw) => {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Invalid(`expected a mapping, got ${describe(raw)}`);
    return readSection(schema, raw as Record<string, unknown>);
  });
}

// ---- reading a schema ----

/** A problem at a nested key (list index or record field), carried up to the reader. */
class NestedInvalid extends Error {
  constructor(
    readonly path: (string | number)[],
    readonly invalid: Invalid,
    readonly example?: string,
  ) {
    super(invalid.message);
  }
}

function atIndex<T>(key: string | number, read: () => T, example?: string): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof NestedInvalid) throw new NestedInvalid([key, ...e.path], e.invalid, e.example);
    if (e instanceof Invalid) throw new NestedInvalid([key], e, example);
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
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!(key in schema)) {
      const hint = suggest(key, Object.keys(schema));
      const example = hint ? exampleOf(schema[hint]!, hint) : sectionExample(schema, name);
      throw new NestedInvalid([key], new Invalid(`unknown key${hint ? ` (did you mean "${hint}"?)` : ""}; allowed here: ${Object.keys(schema).join(", ")}`), example);
    }
  }
  for (const [key, s] of Object.entries(schema)) {
    if (isSetting(s)) {
      out[key] = atIndex(key, () => readValue(s, raw[key], "yaml"), exampleOf(s, key));
    } else {
      const v = raw[key];
      if (v !== undefined && v !== null && (typeof v !== "object" || Array.isArray(v))) {
        throw new NestedInvalid([key], new Invalid(`expected a mapping of keys, got ${describe(v)}`), sectionExample(s, key));
      }
      out[key] = atIndex(key, () => readSection(s, (v ?? {}) as Record<string, unknown>, key));
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
  const body = parts.join(", ");
  return key === undefined ? body : `${key}: {${body}}`;
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

export function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/**
 * Environment variables (empty = unset). Every bad variable is reported at once:
 * `NAME="value": problem, e.g. NAME=example`.
 */
export function readEnv<S extends Record<string, Setting<unknown>>>(schema: S, env: Record<string, string | undefined>): Values<S> {
  const out: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const [name, s] of Object.entries(schema)) {
    const raw = env[name]?.trim() || undefined;
    try {
      out[name] = readValue(s, raw, "env");
    } catch (e) {
      const inner = e instanceof NestedInvalid ? e.invalid : e;
      if (!(inner instanceof Invalid)) throw e;
      const shown = raw === undefined ? "" : `=${s.secret ? "<hidden>" : JSON.stringify(raw)}`;
      problems.push({ path: name, text: `${name}${shown}: ${inner.message}, e.g. ${name}=${s.example}` });
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as Values<S>;
}

/**
 * A YAML file. The first problem is reported, as `source:line: path: problem. Example: ...`, with
 * the line of the key (or of the deepest part of its path that exists).
 */
export function readYaml<S extends Schema>(schema: S, yamlText: string, source: string): Values<S> {
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = lines.linePos(syntax.pos[0]).line;
    throw new ConfigError([{ path: "", line, text: `${source}:${line}: invalid YAML: ${syntax.message.split("\n")[0]}` }]);
  }
  const root = doc.toJS() as unknown;
  const fail = (path: (string | number)[], problem: string, example?: string): never => {
    const line = lineOf(doc, lines, path);
    const dotted = formatPath(path);
    const text = `${source}${line ? `:${line}` : ""}: ${dotted ? `${dotted}: ` : ""}${problem}${example ? `. Example: ${example}` : ""}`;
    throw new ConfigError([{ path: dotted, line, text }]);
  };
  if (root === null || root === undefined) fail([], "the file is empty", sectionExample(schema));
  if (!isMap(doc.contents)) fail([], `expected a mapping of sections at the top, got ${describe(root)}`, sectionExample(schema));
  try {
    return readSection(schema, root as Record<string, unknown>);
  } catch (e) {
    if (!(e instanceof NestedInvalid)) throw e;
    return fail(e.path, e.message, e.example);
  }
}

function lineOf(doc: Document, lines: LineCounter, path: (string | number)[]): number | undefined {
  type Node = { range?: number[] } | undefined;
  let node: unknown = doc.contents;
  let range = (node as Node)?.range;
  for (const seg of path) {
    let next: Node;
    let at: number[] | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
      next = pair?.value as Node;
      at = (pair?.key as Node)?.range;
    } else if (isSeq(node) && typeof seg === "number") {
      next = node.items[seg] as Node;
      at = next?.range;
    }
    if (!at) break;
    range = at;
    node = next;
  }
  return range ? lines.linePos(range[0]!).line : undefined;
}
