// Logging for the bot and the client: a readable log and a JSON-lines log under one directory.
// Lines are buffered and appended a moment later, so logging never blocks the caller; whatever is
// still buffered is written synchronously when the process exits.

import { appendFileSync, mkdirSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { pad2 } from "./timing.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

type Write = (action: string, details?: object, message?: string) => void;
export type Logger = ReturnType<typeof createLogger>;

function formatValue(v: unknown): string {
  if (typeof v === "string") return /[\s="]/.test(v) || v === "" ? JSON.stringify(v) : v;
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

/** "2025-04-01 11:30:00,123 - bot - INFO - message [action k=v ...]", as Python's logging prints it. */
function readableLine(name: string, level: LogLevel, action: string, details: object, message: string | undefined, d: Date): string {
  const stamp = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${d.toTimeString().slice(0, 8)},${String(d.getMilliseconds()).padStart(3, "0")}`;
  const kv = Object.entries(details)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(" ");
  const tail = message ? ` [${action}${kv ? " " + kv : ""}]` : kv ? ` ${kv}` : "";
  return `${stamp} - ${name} - ${level.toUpperCase()} - ${message ?? action}${tail}\n`;
}

// Errors serialise to {} otherwise.
const toJson = (o: unknown) => JSON.stringify(o, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? String(v) : v));

const unflushed = new Set<() => void>();
process.on("exit", () => unflushed.forEach((flushSync) => flushSync()));

/** `console`: also print the readable lines (warn and error to stderr). */
export function createLogger(o: { dir: string; name: string; console?: boolean; minLevel?: LogLevel }) {
  mkdirSync(o.dir, { recursive: true });
  const textPath = join(o.dir, `${o.name}.log`);
  const jsonPath = join(o.dir, `${o.name}_json.log`);
  const min = RANK[o.minLevel ?? "info"];
  const empty = () => ({ text: "", json: "", out: "", err: "" });
  let batch = empty();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing = Promise.resolve();
  let closed = false;

  const take = () => {
    clearTimeout(timer);
    timer = undefined;
    const b = batch;
    batch = empty();
    if (b.out) process.stdout.write(b.out);
    if (b.err) process.stderr.write(b.err);
    return b;
  };
  /** Resolves when everything logged so far is on disk. */
  const flush = (): Promise<void> => {
    const b = take();
    const failed = (e: Error) => void process.stderr.write(`logger ${o.name}: cannot write ${o.dir}: ${e.message}\n`);
    // Chained so that batches land in order.
    if (b.text) writing = writing.then(() => Promise.all([appendFile(textPath, b.text), appendFile(jsonPath, b.json)]).then(() => {}, failed));
    return writing;
  };
  const flushSync = () => {
    const b = take();
    if (!b.text) return;
    try {
      appendFileSync(textPath, b.text);
      appendFileSync(jsonPath, b.json);
    } catch {
      // exiting: nowhere left to report it
    }
  };
  unflushed.add(flushSync);

  const at = (level: LogLevel): Write => (action, details = {}, message) => {
    if (RANK[level] < min || closed) return;
    const now = new Date();
    const line = readableLine(o.name, level, action, details, message, now);
    batch.text += line;
    batch.json += toJson({ timestamp: now.toISOString(), level: level.toUpperCase(), action, details, ...(message ? { message } : {}) }) + "\n";
    if (o.console) batch[RANK[level] >= RANK.warn ? "err" : "out"] += line;
    timer ??= setTimeout(flush, 20);
  };

  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    flush,
    async close(): Promise<void> {
      await flush();
      closed = true;
      unflushed.delete(flushSync);
    },
    textPath,
    jsonPath,
  };
}

const drop: Write = () => {};
export const nullLogger: Logger = { debug: drop, info: drop, warn: drop, error: drop, flush: async () => {}, close: async () => {}, textPath: "", jsonPath: "" };
