// `bun client.ts` as a user runs it, against the sandbox and the real bot (in-process, gramio over
// the sandbox's Bot API): the client speaks MTProto, the user presses 🧪 Тест through the world.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Human } from "../../sandbox/human.ts";
import { bookingTimeAhead, startHarness, TEST_BOT, type Harness } from "../helpers/bot-harness.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

// Each test has its own sandbox (ephemeral ports), bot, temp dir and client processes, and
// `await using` cleans them up when it ends. All but --check run concurrently, side by side, and
// --check (whose clock offset is judged to 100 ms) runs alone after them. The scheduled booking
// mostly waits for its opening; its client starts alone (its warm-up must come over a second before
// the opening, so its start-up is not crowded), and the others start once it is watching: the
// short-lived runs (signals, config errors, --help) and the immediate-mode flows (a booking, a flood
// window, a dropped and a lost connection), which wait on the bot, a flood window and reconnect
// graces with margins far above the load's (a flood window of 1 s holds three requests that take
// milliseconds). The opening is far enough ahead for them to be done, or nearly, by then.

const ROOT = join(import.meta.dir, "..", "..");
const CLIENT = join(ROOT, "client.ts");
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "aprel-client-"));
  dirs.push(d);
  return d;
}

function writeConfig(dir: string, o: { url: string; phone?: string; bot?: string; extra?: string; notify?: boolean }): string {
  const path = join(dir, "client.yaml");
  writeFileSync(
    path,
    `telegram:
  phone: "${o.phone ?? "+79990009999"}"
bot:
  username: "${o.bot ?? TEST_BOT.username}"
targets:
  - cities: ["Челябинск"]
    priority: 1
  - cities: ["Екатеринбург"]
    priority: 2
performance:
  polling_interval_ms: 30
  max_retries: 3
  connection_timeout: 3
notifications:
  telegram_notify: ${o.notify ?? false}
  sound_alert: false
sandbox:
  url: "${o.url}"
${o.extra ?? ""}`,
  );
  return path;
}

interface Running {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  stdout: () => string;
  stderr: () => string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number>;
}

/** A harness that `cleanup` closes. */
async function harness(cleanup: AsyncDisposableStack, ...args: Parameters<typeof startHarness>): Promise<Harness> {
  const h = await startHarness(...args);
  cleanup.defer(() => h.close());
  return h;
}

/** `bun client.ts` that `cleanup` kills if it is still running. */
function spawnClient(cleanup: AsyncDisposableStack, args: string[], cwd: string): Running {
  const proc = Bun.spawn(["bun", CLIENT, ...args], { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, LOG_DIR: join(cwd, "logs") } });
  cleanup.defer(() => {
    if (proc.exitCode === null) proc.kill();
  });
  let out = "";
  let errText = "";
  const pump = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    const dec = new TextDecoder();
    for await (const chunk of s) add(dec.decode(chunk, { stream: true }));
  };
  const done = Promise.all([pump(proc.stdout, (t) => (out += t)), pump(proc.stderr, (t) => (errText += t))]);
  return {
    proc,
    stdout: () => out,
    stderr: () => errText,
    async waitFor(re, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(re);
        if (m) return m;
        if (proc.exitCode !== null || Date.now() > end) {
          throw new Error(`no ${re} in the client's output (exit ${proc.exitCode}):\n${out}\n${errText}`);
        }
        await Bun.sleep(10);
      }
    },
    exited: proc.exited.then(async (code) => {
      await done;
      if (process.env.CLIENT_E2E_SHOW) console.log(`--- bun client.ts ${args.join(" ")} → ${code}\n${out}${errText}`);
      return code;
    }),
  };
}

function jsonLog(dir: string): { action: string; level: string; details: Record<string, unknown>; message?: string }[] {
  const p = join(dir, "logs", "booking_client_json.log");
  return existsSync(p) ? readFileSync(p, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/**
 * The scheduled test's client starts alone: the tests beside it wait here until it is watching with
 * its warm-up /start sent (at once when the scheduled test is not running, e.g. -t).
 */
let scheduledRunning = false;
const scheduledWarm = Promise.withResolvers<void>();
const afterScheduledWarmUp = () => (scheduledRunning ? scheduledWarm.promise : Promise.resolve());

// Values are right-aligned in a 22-character column, and a slow one still keeps a space after its label.
const STATS_BLOCK = /SMS → \/start: +\d+ms\n\/start → выбор: +\d+ms\nВыбор → подтверд: +\d+ms\n━{20}\nОбщее время: +\d+ms/;

/** The user presses 🧪 Тест in the bot, as the person whose account the client runs on. */
async function pressTest(h: Harness, userId: number): Promise<Human> {
  const u = new Human(h.sb.world, userId, TEST_BOT.username);
  const menu = u.waitFor("откроется");
  u.send("/start");
  await menu;
  await u.press("Тест");
  return u;
}

async function bookedInChat(h: Harness, userId: number): Promise<boolean> {
  return h.sb.world.history(userId, h.sb.world.botByUsername(TEST_BOT.username)!.id).some((m) => m.outgoingFromBot && m.text.includes("Забронировано"));
}

describe("bun client.ts --mode scheduled", () => {
  test.concurrent("books right at the opening, without waiting for the announcement", async () => {
    // The warm-up /start must come over a second before the opening: it came 0.7-1 s after the
    // spawn on this 2-core machine with the suite alone, but up to 5.5 s with a second `bun test`
    // running beside it. So 8-9 s ahead; the tests that start after the warm-up (the group is
    // CPU-bound at some 7 s anyway) are then mostly done before the opening instant.
    scheduledRunning = true;
    const opening = bookingTimeAhead(8000);
    await using cleanup = new AsyncDisposableStack();
    cleanup.defer(() => scheduledWarm.resolve()); // whatever happens, the others go on
    const h = await harness(cleanup, { BOOKING_TIME: opening.text, TEST_SMS_DELAY_MS: "100" });
    const dir = tempDir();
    const phone = "+79990001004";
    const starts: number[] = [];
    const spawnedAt = Date.now();
    const unobserve = h.sb.world.observe((e) => {
      if (e.type === "userMessage" && e.message.text === "/start" && h.sb.world.userByPhone(phone)?.id === e.message.userId) starts.push(Date.now());
    });
    const c = spawnClient(
      cleanup,
      ["--mode", "scheduled", "--config", writeConfig(dir, { url: h.sb.botApiUrl, phone, extra: `booking:\n  target_time: "${opening.text}"\n` })],
      dir,
    );
    await c.waitFor(/preparing at once/);
    await c.waitFor(/clock: server − local/);
    const userId = Number((await c.waitFor(/as user (\d+)/))[1]);
    await c.waitFor(/warm-up \/start sent/);
    scheduledWarm.resolve();
    expect(await c.exited).toBe(0);
    unobserve();
    const out = c.stdout();
    expect(out).toMatch(STATS_BLOCK);
    expect(out).toContain("warm-up /start sent");
    expect(await bookedInChat(h, userId)).toBe(true);
    // The warm-up came well before the opening; the booking /start right at it (loose bound: busy CI).
    const atOpening = starts.filter((t) => t >= opening.at - 100);
    console.log(`scheduled: warm-up /start ${starts[0]! - spawnedAt} ms after the spawn, ${opening.at - starts[0]!} ms before the opening; the booking /start ${atOpening[0]! - opening.at} ms after it`);
    expect(starts.some((t) => t < opening.at - 1000)).toBe(true);
    expect(atOpening.length).toBeGreaterThan(0);
    expect(atOpening[0]! - opening.at).toBeLessThan(500);
    const attempt = jsonLog(dir).find((l) => l.action === "booking_attempt")!;
    expect(attempt.details.mode).toBe("scheduled");
    expect(["trigger", "announcement"]).toContain(attempt.details.origin as string);
  }, 40_000);
});

describe("bun client.ts: Ctrl+C and SIGTERM", () => {
  for (const [signal, code, line, phone] of [["SIGINT", 130, "interrupted", "+79990001005"], ["SIGTERM", 143, "terminated (SIGTERM)", "+79990001006"]] as const) {
    test.concurrent(`${signal} while watching: a line, disconnects, flushes the log, exit ${code}`, async () => {
      await using cleanup = new AsyncDisposableStack();
      await afterScheduledWarmUp();
      const h = await harness(cleanup, { BOOKING_TIME: "23:59:59" });
      const dir = tempDir();
      const c = spawnClient(cleanup, ["--mode", "immediate", "--config", writeConfig(dir, { url: h.sb.botApiUrl, phone })], dir);
      await c.waitFor(/as user (\d+)/);
      c.proc.kill(signal);
      expect(await c.exited).toBe(code);
      expect(c.stdout()).toContain(line);
      expect(jsonLog(dir).some((l) => l.action === "client_interrupted" && l.details.signal === signal)).toBe(true);
    }, 20_000);
  }
});

describe("bun client.ts --mode immediate", () => {
  test.concurrent("watches, books after 🧪 Тест, prints the stats block, logs booking_attempt, notifies Saved Messages", async () => {
    await using cleanup = new AsyncDisposableStack();
    await afterScheduledWarmUp();
    const h = await harness(cleanup, { BOOKING_TIME: "23:59:59", TEST_SMS_DELAY_MS: "100" });
    const dir = tempDir();
    const phone = "+79990001001";
    const c = spawnClient(cleanup, ["--mode", "immediate", "--config", writeConfig(dir, { url: h.sb.botApiUrl, phone, notify: true })], dir);
    const m = await c.waitFor(/watching @(\S+) for the announcement as user (\d+)/);
    expect(m[1]).toBe(TEST_BOT.username);
    const userId = Number(m[2]);
    expect(h.sb.world.userByPhone(phone)?.id).toBe(userId);
    expect(c.stdout().split("\n")[0]).toMatch(/^sandbox mode: /);

    await pressTest(h, userId);
    expect(await c.exited).toBe(0);
    const out = c.stdout();
    expect(out).toMatch(STATS_BLOCK);
    // the seed's block adds up: Общее время = the three stages (ending at the confirm press)
    const [a, b, cc, total] = [...out.match(STATS_BLOCK)![0].matchAll(/(\d+)ms/g)].map((x) => Number(x[1]));
    expect(Math.abs(a! + b! + cc! - total!)).toBeLessThanOrEqual(1);
    expect(out).toMatch(/\n━{20}\nОбщее время: +\d+ms\nresult received \d+ ms after the confirm press; \d+ ms from the start\n/);
    expect(out).toContain("bot: ✅ Забронировано");
    expect(out).toMatch(/client reaction \(update → request handed to gramjs\): median [\d.]+ ms/);
    expect(await bookedInChat(h, userId)).toBe(true);

    const attempt = jsonLog(dir).find((l) => l.action === "booking_attempt");
    expect(attempt).toBeDefined();
    expect(typeof attempt!.details.total_time_ms).toBe("number");
    expect(attempt!.details.total_time_ms as number).toBeGreaterThan(0);
    const d = attempt!.details as Record<string, number>;
    expect(d.total_time_ms).toBeCloseTo(d.sms_to_start_ms! + d.start_to_select_ms! + d.select_to_confirm_ms!, 1);
    expect(d.result_ms).toBeCloseTo(d.total_time_ms! + d.confirm_to_result_ms!, 1);
    expect(attempt!.details.outcome).toBe("booked");
    expect(existsSync(join(dir, "logs", "booking_client.log"))).toBe(true);
    // telegram_notify: the result in Saved Messages
    expect(h.sb.world.history(userId, 0).some((msg) => msg.text.includes("Забронировано") && msg.text.includes("Общее время"))).toBe(true);
    // nothing secret on screen
    expect(out + c.stderr()).not.toMatch(/session":|1[A-Za-z0-9+/]{100,}/);
  }, 30_000);

  test.concurrent("a FLOOD_WAIT during the flow is reported in words and retried to a booking", async () => {
    await using cleanup = new AsyncDisposableStack();
    await afterScheduledWarmUp();
    const h = await harness(cleanup, { BOOKING_TIME: "23:59:59", TEST_SMS_DELAY_MS: "100" }, { floodWait: { requestsPerSecond: 2 } });
    const dir = tempDir();
    const c = spawnClient(cleanup, ["--mode", "immediate", "--config", writeConfig(dir, { url: h.sb.botApiUrl, phone: "+79990001002" })], dir);
    const userId = Number((await c.waitFor(/as user (\d+)/))[1]);
    await Bun.sleep(1100); // a fresh flood window: /start, select, confirm = 3 requests > 2/s
    await pressTest(h, userId);
    expect(await c.exited).toBe(0);
    expect(c.stdout()).toMatch(/FLOOD_WAIT: Telegram asks to wait \d+ s.*retry 1\/3/);
    expect(c.stdout()).toMatch(STATS_BLOCK);
    expect(await bookedInChat(h, userId)).toBe(true);
    expect(jsonLog(dir).some((l) => l.action === "booking_note" && String(l.message).includes("FLOOD_WAIT"))).toBe(true);
  }, 30_000);

  test.concurrent("a dropped connection during the flow: gramjs reconnects, the client catches up and books", async () => {
    await using cleanup = new AsyncDisposableStack();
    await afterScheduledWarmUp();
    const h = await harness(cleanup, { BOOKING_TIME: "23:59:59", TEST_SMS_DELAY_MS: "100" });
    const dir = tempDir();
    const c = spawnClient(cleanup, ["--mode", "immediate", "--config", writeConfig(dir, { url: h.sb.botApiUrl, phone: "+79990001003" })], dir);
    const userId = Number((await c.waitFor(/as user (\d+)/))[1]);
    let dropped = 0;
    const unobserve = h.sb.world.observe((e) => {
      // Cut the line the moment the client's /start (the reaction to the announcement) arrives:
      // the bot's menu is then pushed to nobody.
      if (e.type === "mtprotoRequest" && e.userId === userId && e.method === "messages.SendMessage" && dropped === 0) {
        dropped = h.sb.mtproto.dropConnections(userId);
      }
    });
    await pressTest(h, userId);
    const code = await c.exited;
    unobserve();
    expect(dropped).toBeGreaterThan(0);
    expect(c.stdout()).toMatch(/connection to Telegram lost|reconnected/);
    expect(code).toBe(0);
    expect(await bookedInChat(h, userId)).toBe(true);
  }, 40_000);

  test.concurrent("Telegram gone for good while watching: the client says so and exits non-zero, not 0", async () => {
    await using cleanup = new AsyncDisposableStack();
    await afterScheduledWarmUp();
    const h = await startHarness({ BOOKING_TIME: "23:59:59" });
    let gone = false; // Telegram going away is this test's point: closed below, or here if it fails first
    cleanup.defer(async () => {
      if (!gone) await h.close();
    });
    const dir = tempDir();
    // connection_timeout 0.5 s: give up reconnecting after 1.5 s; notifications on, so the exit must
    // not hang on a message that can never be sent.
    const config = writeConfig(dir, { url: h.sb.botApiUrl, phone: "+79990001006", notify: true });
    writeFileSync(config, readFileSync(config, "utf8").replace("connection_timeout: 3", "connection_timeout: 0.5"));
    const c = spawnClient(cleanup, ["--mode", "immediate", "--config", config], dir);
    await c.waitFor(/as user (\d+)/);
    gone = true;
    await h.close();
    const code = await c.exited;
    expect(c.stdout()).toMatch(/connection to Telegram lost/);
    expect(c.stdout() + c.stderr()).toMatch(/could not reconnect within 1.5 s/);
    expect(code).toBe(1);
  }, 40_000);
});

describe("bun client.ts: config errors, --check, --help", () => {
  test.concurrent("a wrong-typed key: exit 2, one message naming the key, nothing started", async () => {
    await using cleanup = new AsyncDisposableStack();
    await afterScheduledWarmUp();
    const dir = tempDir();
    const path = writeConfig(dir, { url: "http://127.0.0.1:1", extra: "" }).replace(/$/, "");
    writeFileSync(path, readFileSync(path, "utf8").replace("max_retries: 3", 'max_retries: "many"'));
    const c = spawnClient(cleanup, ["--mode", "immediate", "--config", path], dir);
    expect(await c.exited).toBe(2);
    expect(c.stderr()).toContain("performance.max_retries");
    expect(c.stderr()).toContain("Example:");
    expect(c.stderr().trim().split("\n").length).toBe(1);
    expect(existsSync(join(dir, "logs"))).toBe(false);
  });

  test.concurrent("an unknown key, a missing file, scheduled without target_time, bad arguments: exit 2", async () => {
    await using cleanup = new AsyncDisposableStack();
    await afterScheduledWarmUp();
    const dir = tempDir();
    const path = writeConfig(dir, { url: "http://127.0.0.1:1", extra: "perfomance:\n  x: 1\n" });
    // Independent runs, started together.
    const runs = [
      spawnClient(cleanup, ["--mode", "immediate", "--config", path], dir),
      spawnClient(cleanup, ["--mode", "immediate", "--config", join(dir, "nope.yaml")], dir),
      spawnClient(cleanup, ["--mode", "scheduled", "--config", writeConfig(tempDir(), { url: "http://127.0.0.1:1" })], dir),
      spawnClient(cleanup, ["--mode", "sometimes"], dir),
    ];
    expect(await Promise.all(runs.map((c) => c.exited))).toEqual([2, 2, 2, 2]);
    expect(runs[0]!.stderr()).toMatch(/perfomance: unknown key \(did you mean "performance"\?\)/);
    expect(runs[1]!.stderr()).toContain("file not found");
    expect(runs[2]!.stderr()).toContain("booking.target_time");
    expect(runs[3]!.stderr()).toContain("--mode must be immediate or scheduled");
  });

  test.concurrent("--help prints the usage", async () => {
    await using cleanup = new AsyncDisposableStack();
    await afterScheduledWarmUp();
    const c = spawnClient(cleanup, ["--help"], tempDir());
    expect(await c.exited).toBe(0);
    expect(c.stdout()).toContain("--mode immediate");
  });

  test("--check: every component ✓ against a running sandbox; ✗ with hints otherwise", async () => {
    await using cleanup = new AsyncDisposableStack();
    const h = await harness(cleanup, { BOOKING_TIME: "23:59:59" }, { clockSkewMs: 2500 });
    const dir = tempDir();
    const c = spawnClient(cleanup, ["--check", "--config", writeConfig(dir, { url: h.sb.botApiUrl, extra: 'booking:\n  target_time: "11:30:00"\n' })], dir);
    expect(await c.exited).toBe(0);
    const out = c.stdout();
    for (const name of ["config", "session", "connection", "bot", "clock", "ping"]) expect(out).toMatch(new RegExp(`^✓ ${name}: `, "m"));
    expect(out).toMatch(/^✓ ping: round trip to the DC: median [\d.]+ ms, worst [\d.]+ ms over 10 MTProto pings$/m);
    const ping = jsonLog(dir).find((l) => l.action === "check_ping")!;
    expect(ping.details.rtt_worst_ms as number).toBeGreaterThanOrEqual(ping.details.rtt_median_ms as number);
    expect(Math.abs((ping.details.clock_offset_ms as number) - 2500)).toBeLessThan(100);
    const offset = Number(/server − local \+([\d.]+) ms/.exec(out)?.[1]);
    expect(Math.abs(offset - 2500)).toBeLessThan(100);
    expect(out).toMatch(/11:30:00 \(.+\) is in \d\d:\d\d:\d\d/);

    // The two failing checks, started together, each in its own folder.
    const [d1, d2] = [tempDir(), tempDir()];
    const noBot = spawnClient(cleanup, ["--check", "--config", writeConfig(d1, { url: h.sb.botApiUrl, bot: "no_such_bot" })], d1);
    const noSandbox = spawnClient(cleanup, ["--check", "--config", writeConfig(d2, { url: "http://127.0.0.1:9" })], d2);
    expect(await noBot.exited).toBe(1);
    expect(noBot.stdout()).toMatch(/^✗ bot: no bot @no_such_bot/m);
    expect(noBot.stdout()).toContain("hint: bot.username");

    expect(await noSandbox.exited).toBe(1);
    expect(noSandbox.stdout()).toMatch(/^✗ session: no sandbox at/m);
    expect(noSandbox.stdout()).toMatch(/^✗ connection: skipped/m);
  }, 30_000);
});
