// Logging for the bot and the client: a readable log and a JSON-lines log under one directory.
// Writes never block the caller: lines are buffered and flushed asynchronously in batches, and
// whatever is still buffered is written synchronously when the process exits.

import { appendFileSync, mkdirSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";

export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  dir: string;
  name: string;
  /** Also print readable lines to stdout (warn and error to stderr). Default false. */
  console?: boolean;
  minLevel?: LogLevel;
  /** How long lines may wait in the buffer before a flush starts. Default 20 ms. */
  flushDelayMs?: number;
}

export interface Logger {
  debug(action: string, details?: object, message?: string): void;
  info(action: string, details?: object, message?: string): void;
  warn(action: string, details?: object, message?: string): void;
  error(action: string, details?: object, message?: string): void;
  /** Resolves when everything logged so far is on disk. */
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly textPath: string;
  readonly jsonPath: string;
}

export function isLogLevel(s: string): s is LogLevel {
  return s in LEVEL_RANK;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** "2025-04-01 11:30:00,123" in local time, as Python's logging prints it. */
function localStamp(d: Date): string {
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`
  );
}

function formatValue(v: unknown): string {
  if (typeof v === "string") return /[\s="]/.test(v) || v === "" ? JSON.stringify(v) : v;
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

/** JSON.stringify that turns Errors into their message (they serialise to {} otherwise). */
function toJson(o: unknown): string {
  return JSON.stringify(o, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? String(v) : v));
}

export function readableLine(name: string, level: LogLevel, action: string, details: object | undefined, message: string | undefined, at: Date): string {
  const kv = details ? Object.entries(details).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${formatValue(v)}`).join(" ") : "";
  const head = `${localStamp(at)} - ${name} - ${level.toUpperCase()} - ${message ?? action}`;
  const tail = message ? ` [${action}${kv ? " " + kv : ""}]` : kv ? ` ${kv}` : "";
  return head + tail;
}

const openLoggers = new Set<BufferedLogger>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const l of openLoggers) l.flushSync();
  });
}

class BufferedLogger implements Logger {
  readonly textPath: string;
  readonly jsonPath: string;
  private text: string[] = [];
  private json: string[] = [];
  private out: string[] = [];
  private err: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly min: number;

  constructor(private readonly o: LoggerOptions) {
    mkdirSync(o.dir, { recursive: true });
    this.textPath = join(o.dir, `${o.name}.log`);
    this.jsonPath = join(o.dir, `${o.name}_json.log`);
    this.min = LEVEL_RANK[o.minLevel ?? "info"];
    openLoggers.add(this);
    installExitHook();
  }

  debug(action: string, details?: object, message?: string): void {
    this.log("debug", action, details, message);
  }
  info(action: string, details?: object, message?: string): void {
    this.log("info", action, details, message);
  }
  warn(action: string, details?: object, message?: string): void {
    this.log("warn", action, details, message);
  }
  error(action: string, details?: object, message?: string): void {
    this.log("error", action, details, message);
  }

  private log(level: LogLevel, action: string, details: object | undefined, message: string | undefined): void {
    if (LEVEL_RANK[level] < this.min || this.closed) return;
    const at = new Date();
    const line = readableLine(this.o.name, level, action, details, message, at);
    this.text.push(line);
    this.json.push(toJson({ timestamp: at.toISOString(), level: level.toUpperCase(), action, details: details ?? {}, ...(message ? { message } : {}) }));
    if (this.o.console) (LEVEL_RANK[level] >= LEVEL_RANK.warn ? this.err : this.out).push(line);
    this.timer ??= setTimeout(() => void this.flush(), this.o.flushDelayMs ?? 20);
  }

  private take(): { text: string; json: string; out: string; err: string } | undefined {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.text.length) return undefined;
    const join = (a: string[]) => (a.length ? a.join("\n") + "\n" : "");
    const batch = { text: join(this.text), json: join(this.json), out: join(this.out), err: join(this.err) };
    this.text = [];
    this.json = [];
    this.out = [];
    this.err = [];
    return batch;
  }

  flush(): Promise<void> {
    const batch = this.take();
    if (batch) {
      // Chained so batches land in order.
      this.writing = this.writing.then(async () => {
        if (batch.out) process.stdout.write(batch.out);
        if (batch.err) process.stderr.write(batch.err);
        try {
          await Promise.all([appendFile(this.textPath, batch.text), appendFile(this.jsonPath, batch.json)]);
        } catch (e) {
          process.stderr.write(`logger ${this.o.name}: cannot write ${this.o.dir}: ${(e as Error).message}\n`);
        }
      });
    }
    return this.writing;
  }

  flushSync(): void {
    const batch = this.take();
    if (!batch) return;
    if (batch.out) process.stdout.write(batch.out);
    if (batch.err) process.stderr.write(batch.err);
    try {
      appendFileSync(this.textPath, batch.text);
      appendFileSync(this.jsonPath, batch.json);
    } catch {
      // exiting: nowhere left to report it
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    openLoggers.delete(this);
  }
}

export function createLogger(o: LoggerOptions): Logger {
  return new BufferedLogger(o);
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
