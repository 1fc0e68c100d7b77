// `bun bot.ts` as a process: start-up on the sandbox, a clean SIGINT, and bad values that must stop
// start-up with a message naming the variable. Each run gets a temp working directory (so no .env
// is loaded and bot-sandbox.db lands there), a temp log dir and ephemeral sandbox ports.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BOT = join(import.meta.dir, "..", "..", "bot.ts");
const OWN_VARS = /^(BOT_TOKEN|ADMIN_IDS|BOOKING_TIME|TEST_MODE_ENABLED|TEST_SMS_DELAY_MS|DB_PATH|BOT_API_URL|BROADCAST_RATE_PER_S|SEND_RATE_PER_S|BOT_UI|TZ|LOG_DIR|LOG_LEVEL|TRANSPORTS_FILE|SANDBOX_\w+)$/;

// Every test has its own working directory, sandbox ports and bot process, and each mostly waits on
// its process: they run concurrently. Whatever a failed test left running is killed at the end.
const dirs: string[] = [];
const procs: Bun.Subprocess[] = [];
afterAll(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "aprel-botstart-"));
  dirs.push(d);
  return d;
}

/** The environment of a bot started by hand: none of ours inherited, sandbox on free ports. */
function envFor(cwd: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !OWN_VARS.test(k)) env[k] = v;
  return { ...env, LOG_DIR: join(cwd, "logs"), SANDBOX_BOT_API_PORT: "0", SANDBOX_MTPROTO_PORT: "0", BOOKING_TIME: "23:59:59", ...extra };
}

function spawnBot(cwd: string, extra: Record<string, string> = {}): Bun.Subprocess<"ignore", "pipe", "pipe"> {
  const p = Bun.spawn(["bun", BOT], { cwd, env: envFor(cwd, extra), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  procs.push(p);
  return p;
}

/** Runs the bot to its exit (it must exit by itself, within the time limit). */
async function runToExit(cwd: string, extra: Record<string, string>, timeoutMs = 15_000): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawnBot(cwd, extra);
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, out, err };
}

/** Reads a stream until `done(text so far)` holds; resolves with the text. */
async function readUntil(stream: ReadableStream<Uint8Array>, done: (text: string) => boolean, timeoutMs: number): Promise<string> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (!done(text)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; output so far:\n${text}`);
      const r = await Promise.race([reader.read(), Bun.sleep(left).then(() => null)]);
      if (r === null) continue;
      if (r.done) throw new Error(`stream ended; output so far:\n${text}`);
      text += dec.decode(r.value, { stream: true });
    }
    return text;
  } finally {
    reader.releaseLock();
  }
}

/** The JSON log once it holds `action` (stdout is written a moment before the files). */
async function jsonLog(cwd: string, action: string): Promise<any[]> {
  const path = join(cwd, "logs", "bot_json.log");
  for (let i = 0; ; i++) {
    const text = existsSync(path) ? readFileSync(path, "utf8") : "";
    if (text.includes(`"action":"${action}"`)) return text.trim().split("\n").map((l) => JSON.parse(l));
    if (i > 200) throw new Error(`${action} never reached ${path}:\n${text}`);
    await Bun.sleep(10);
  }
}

test.concurrent("--help prints the variables and exits 0 without starting", async () => {
  const cwd = tempDir();
  const p = Bun.spawn(["bun", BOT, "--help"], { cwd, env: envFor(cwd), stdout: "pipe", stderr: "pipe" });
  procs.push(p);
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  expect(code).toBe(0);
  expect(out).toContain("Usage: bun bot.ts");
  expect(out).toContain("BOT_TOKEN=");
  expect(out).toContain("BOT_UI=classic");
  expect(existsSync(join(cwd, "logs"))).toBe(false);
});

describe("bun bot.ts on the sandbox", () => {
  test.concurrent("says so in its first log line, uses bot-sandbox.db, exits 0 on SIGINT", async () => {
    const cwd = tempDir();
    const p = spawnBot(cwd);
    const out = await readUntil(p.stdout, (t) => t.includes("is polling"), 20_000);
    const first = out.split("\n")[0]!;
    expect(first).toContain("No BOT_TOKEN: running on the local sandbox");
    expect(first).toContain("sandbox_mode");
    const json = await jsonLog(cwd, "bot_started");
    expect(json[0].action).toBe("sandbox_mode");
    const started = json.find((e) => e.action === "bot_started");
    expect(started.details.db).toBe("bot-sandbox.db");
    expect(existsSync(join(cwd, "bot-sandbox.db"))).toBe(true);
    expect(existsSync(join(cwd, "bot.db"))).toBe(false);
    expect(json.some((e) => e.action === "sandbox_real_db")).toBe(false);

    const t0 = performance.now();
    p.kill("SIGINT");
    const code = await Promise.race([p.exited, Bun.sleep(5_000).then(() => "timeout" as const)]);
    expect(code).toBe(0);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect((await jsonLog(cwd, "bot_stopped")).at(-1).action).toBe("bot_stopped");
  }, 40_000);

  test.concurrent("DB_PATH=bot.db on the sandbox is obeyed, with a warning", async () => {
    const cwd = tempDir();
    const p = spawnBot(cwd, { DB_PATH: "bot.db" });
    const out = await readUntil(p.stdout, (t) => t.includes("is polling"), 20_000);
    expect(out.split("\n")[0]).toContain("sandbox_mode");
    p.kill("SIGINT");
    expect(await p.exited).toBe(0);
    const err = await new Response(p.stderr).text();
    expect(err).toContain("sandbox_real_db");
    expect(existsSync(join(cwd, "bot.db"))).toBe(true);
    expect(existsSync(join(cwd, "bot-sandbox.db"))).toBe(false);
  }, 40_000);

  test.concurrent.each(["SANDBOX_BOT_API_PORT", "SANDBOX_MTPROTO_PORT"])("%s taken: a clear message naming it, non-zero exit", async (name) => {
    const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const cwd = tempDir();
      const r = await runToExit(cwd, { [name]: String(taken.port) });
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(new RegExp(`port ${taken.port}\\b.*(in use|taken)`));
      expect(r.err).toMatch(new RegExp(`set ${name}\\b`));
      expect(existsSync(join(cwd, "bot-sandbox.db"))).toBe(false);
    } finally {
      taken.stop(true);
    }
  }, 30_000);
});

describe("bun bot.ts with bad values names the variable", () => {
  // With a token no sandbox starts; these values are refused before the Bot API is called.
  const OFFLINE = { BOT_TOKEN: "1:x", BOT_API_URL: "http://127.0.0.1:9" };

  test.concurrent("SANDBOX_BOT_API_PORT=abc: exit 2 before starting anything", async () => {
    const cwd = tempDir();
    const r = await runToExit(cwd, { SANDBOX_BOT_API_PORT: "abc" });
    expect(r.code).toBe(2);
    expect(r.err).toContain('SANDBOX_BOT_API_PORT="abc": expected a whole number');
    expect(r.err).not.toContain("NaN");
    expect(existsSync(join(cwd, "logs"))).toBe(false);
  });

  test.concurrent("several bad values: exit 2 naming each, before touching the network; a malformed BOT_TOKEN is not echoed", async () => {
    const cwd = tempDir();
    const r = await runToExit(cwd, { BOOKING_TIME: "25:61", ADMIN_IDS: "admin", BOT_TOKEN: "12345:hunter2 with spaces", DB_PATH: join(cwd, "nope", "x.db") });
    expect(r.code).toBe(2);
    expect(r.err).toContain('BOOKING_TIME="25:61"');
    expect(r.err).toContain("e.g. BOOKING_TIME=11:30");
    expect(r.err).toContain('ADMIN_IDS="admin"');
    expect(r.err).toContain("BOT_TOKEN=<hidden>");
    expect(r.err + r.out).not.toContain("hunter2");
  });

  test.concurrent("a missing TRANSPORTS_FILE: exit 2, names the variable", async () => {
    const cwd = tempDir();
    const r = await runToExit(cwd, { ...OFFLINE, TRANSPORTS_FILE: join(cwd, "missing.json") });
    expect(r.code).toBe(2);
    expect(r.err).toContain(`TRANSPORTS_FILE=${JSON.stringify(join(cwd, "missing.json"))}: cannot read the transports file`);
    expect(r.err).not.toMatch(/^\s+at /m);
  });

  test.concurrent("LOG_DIR that cannot be created: exit 2, no stack trace", async () => {
    const cwd = tempDir();
    const r = await runToExit(cwd, { LOG_DIR: "/proc/nope/logs" });
    expect(r.code).toBe(2);
    expect(r.err).toContain('LOG_DIR="/proc/nope/logs": cannot create or write the log directory');
    expect(r.err).toContain("e.g. LOG_DIR=logs");
    expect(r.err).not.toMatch(/^\s+at /m);
  });

  test.concurrent("DB_PATH that cannot be opened (a directory): exit 2, names DB_PATH", async () => {
    const cwd = tempDir();
    const r = await runToExit(cwd, { ...OFFLINE, DB_PATH: cwd });
    expect(r.code).toBe(2);
    expect(r.err).toContain(`DB_PATH=${JSON.stringify(cwd)}: cannot open the database`);
    expect(r.err).toContain("e.g. DB_PATH=bot.db");
    expect(r.err).not.toMatch(/^\s+at /m);
  });
});
