// Logging for the bot and the client: a readable log and a JSON-lines log under one directory.
// Writes never block the caller: lines are buffered and appended in batches a moment later, and
// whatever is still buffered is written synchronously when the process exits.

import { appendFileSync, mkdirSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  dir: string;
  name: string;
  /** Also print readable lines to stdout (warn and error to stderr). Default false. */
  console?: boolean;
  minLevel?: LogLevel;
}

type Write = (action: string, details?: object, message?: string) => void;

export interface Logger {
  debug: Write;
  info: Write;
  warn: Write;
  error: Write;
  /** Resolves when everything logged so far is on disk. */
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly textPath: string;
  readonly jsonPath: string;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** "2025-04-01 11:30:00,123 - bot - INFO - message [action k=v ...]", as Python's logging prints it. */
function readableLine(name: string, level: LogLevel, action: string, details: object | undefined, message: string | undefined, d: Date): string {
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`;
  const kv = Object.entries(details ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(" ");
  const tail = message ? ` [${action}${kv ? " " + kv : ""}]` : kv ? ` ${kv}` : "";
  return `${stamp} - ${name} - ${level.toUpperCase()} - ${message ?? action}${tail}`;
}

function formatValue(v: unknown): string {
  if (typeof v === "string") return /[\s="]/.test(v) || v === "" ? JSON.stringify(v) : v;
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

/** JSON.stringify that turns Errors into their name and message (they serialise to {} otherwise). */
const toJson = (o: unknown) => JSON.stringify(o, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? String(v) : v));

const open = new Set<() => void>();
process.on("exit", () => open.forEach((flushSync) => flushSync()));

export function createLogger(o: LoggerOptions): Logger {
  mkdirSync(o.dir, { recursive: true });
  const textPath = join(o.dir, `${o.name}.log`);
  const jsonPath = join(o.dir, `${o.name}_json.log`);
  const min = RANK[o.minLevel ?? "info"];
  let batch = { text: "", json: "", out: "", err: "" };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing = Promise.resolve();
  let closed = false;

  const take = () => {
    clearTimeout(timer);
    timer = undefined;
    const b = batch;
    batch = { text: "", json: "", out: "", err: "" };
    if (b.out) process.stdout.write(b.out);
    if (b.err) process.stderr.write(b.err);
    return b.text ? b : undefined;
  };
  const flush = () => {
    const b = take();
    // Chained so batches land in order.
    if (b) writing = writing.then(() => Promise.all([appendFile(textPath, b.text), appendFile(jsonPath, b.json)]).then(() => {}, (e: Error) => void process.stderr.write(`logger ${o.name}: cannot write ${o.dir}: ${e.message}\n`)));
    return writing;
  };
  const flushSync = () => {
    const b = take();
    if (!b) return;
    try {
      appendFileSync(textPath, b.text);
      appendFileSync(jsonPath, b.json);
    } catch {
      // exiting: nowhere left to report it
    }
  };
  open.add(flushSync);

  const at = (level: LogLevel): Write => (action, details, message) => {
    if (RANK[level] < min || closed) return;
    const now = new Date();
    const line = readableLine(o.name, level, action, details, message, now) + "\n";
    batch.text += line;
    batch.json += toJson({ timestamp: now.toISOString(), level: level.toUpperCase(), action, details: details ?? {}, ...(message ? { message } : {}) }) + "\n";
    if (o.console) batch[RANK[level] >= RANK.warn ? "err" : "out"] += line;
    timer ??= setTimeout(flush, 20);
  };

  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    flush,
    async close() {
      await flush();
      closed = true;
      open.delete(flushSync);
    },
    textPath,
    jsonPath,
  };
}

/** A logger that drops everything (tests, libraries used without logging). */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  flush: async () => {},
  close: async () => {},
  textPath: "",
  jsonPath: "",
};
