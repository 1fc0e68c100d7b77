// The bot under Telegram's limits and faults, through the sandbox's Bot API (issue 9): a race
// under rate limits degrades fairly, every reply survives 5xx and resets, a hung long poll is
// recovered, and polling errors are one log line each.

import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUTTON, RECOGNISE, TEXT } from "../../lib/ui.ts";
import { Human, inlineButtons } from "../../sandbox/human.ts";
import { startSandbox } from "../../sandbox/index.ts";
import { startFaultProxy, type FaultRule } from "../helpers/bot-api-proxy.ts";
import { TEST_BOT, startHarness, until, type Harness } from "../helpers/bot-harness.ts";

// Every test has its own sandbox and bot (in-process, or `bun bot.ts`), cleaned up by `await using`.
// They mostly wait (on paced sends, retries, a hung poll, the shutdown bound), so they run
// concurrently.

/** A harness that closes when the test's scope ends. */
async function harness(...args: Parameters<typeof startHarness>): Promise<Harness & AsyncDisposable> {
  const h = await startHarness(...args);
  return Object.assign(h, { [Symbol.asyncDispose]: () => h.close() });
}

const SEATS = 10;
const ROUTES = [
  { from_city: "Челябинск", to_city: "Курган", departure: "07:30", seats: SEATS },
  { from_city: "Челябинск", to_city: "Миасс", departure: "09:00", seats: 5 },
];

test.concurrent("a race under Telegram-like limits: everyone answered at once, every winner told, seats in confirmation order", async () => {
  const USERS = 150;
  // Telegram's shape (a global budget, about 1 message/s per chat after a burst of 3), scaled up
  // globally so the test stays short; the bot's own budget sits below the sandbox's.
  await using h = await harness(
    { BOOKING_TIME: "00:00:00", TEST_MODE_ENABLED: "false", SEND_RATE_PER_S: "180" },
    { rateLimit: { globalPerSecond: 200, globalBurst: 20, perChatPerSecond: 1, perChatBurst: 3 } },
    { transports: ROUTES, limits: { chatPerS: 1, chatBurst: 3, burst: 10 } },
  );
  const people: Human[] = Array.from({ length: USERS }, (_, i) => h.human(`Racer ${i}`));
  await Promise.all(
    people.map(async (u) => {
      const menu = u.waitFor(TEXT.menuOpen, { timeoutMs: 20_000 });
      u.send("/start");
      await menu;
      const prompt = u.waitFor((m) => inlineButtons(m).some((b) => b.text === BUTTON.confirm), { timeoutMs: 20_000 });
      await u.press("Курган");
      await prompt;
    }),
  );

  const order: number[] = [];
  const off = h.sb.world.observe((e) => {
    if (e.type === "callbackQuery") order.push(e.query.userId);
  });
  const results = people.map((u) => u.waitFor((m) => m.text.includes(RECOGNISE.booked) || m.text.includes(RECOGNISE.soldOut), { timeoutMs: 30_000 }));
  const answers = await Promise.all(people.map((u) => u.press(BUTTON.confirm)));
  off();
  // Answered at once, with the result in the answer itself.
  expect(answers.filter((a) => a.timeout)).toHaveLength(0);
  expect(answers.filter((a) => a.text?.includes(RECOGNISE.booked))).toHaveLength(SEATS);
  expect(answers.filter((a) => a.text?.includes(RECOGNISE.soldOut))).toHaveLength(USERS - SEATS);

  const day = h.query<{ day: string }>("SELECT day FROM openings")[0]!.day;
  const winners = h.query<{ user_id: number }>("SELECT b.user_id FROM bookings b JOIN transports t ON t.id = b.transport_id WHERE t.day = ? ORDER BY b.id", day).map((b) => b.user_id);
  expect(winners).toEqual(order.slice(0, SEATS)); // the earliest confirmations the bot received
  const messages = await Promise.all(results); // then every message, as the queue drains
  const told = people.filter((u, i) => winners.includes(u.userId) && messages[i]!.text.includes(RECOGNISE.booked));
  expect(told).toHaveLength(SEATS);
  expect(h.query<{ n: number }>("SELECT COUNT(*) AS n FROM bookings WHERE told_at IS NULL")[0]!.n).toBe(0);
  console.log(`race under limits: ${USERS} users, 429s received ${h.bot.sender.counts.n429}, retried ${h.bot.sender.counts.retried}`);
}, 60_000);

test.concurrent("replies survive 5xx, resets and a proxy's error page; 400 is not retried", async () => {
  // Each chat's reply: a proxy's 502 page first, then a reset connection, then through.
  const tries = new Map<unknown, number>();
  await using h = await harness({ BOOKING_TIME: "23:59:59" }, {}, {}, (method, body) => {
    if (method !== "sendMessage" || body.text !== TEXT.hint) return undefined;
    const n = (tries.get(body.chat_id) ?? 0) + 1;
    tries.set(body.chat_id, n);
    return n === 1 ? 502 : n === 2 ? "reset" : undefined;
  });
  const people = Array.from({ length: 6 }, (_, i) => h.human(`Unlucky ${i}`));
  await Promise.all(
    people.map(async (u) => {
      const reply = u.waitFor(TEXT.hint, { timeoutMs: 15_000 });
      u.send("hello?");
      await reply;
    }),
  );
  for (const u of people) expect(u.history().filter((m) => m.outgoingFromBot)).toHaveLength(1);
  await h.log.flush();
  expect(h.jsonLog().filter((e) => e.action === "send_retry").length).toBeGreaterThan(0);

  h.proxy!.rule = (method) => (method === "sendMessage" ? 400 : undefined);
  const before = h.proxy!.calls.get("sendMessage")!;
  people[0]!.send("again");
  await until(() => h.jsonLog().some((e) => e.action === "send_failed"), 5_000, "the 400 to be given up");
  expect(h.proxy!.calls.get("sendMessage")).toBe(before + 1);
}, 30_000);

test.concurrent("a hung long poll is polled again; 409 and network errors are one log line each, and the recovery too", async () => {
  let hang = true;
  await using h = await harness({ BOOKING_TIME: "23:59:59" }, {}, { pollTimeoutS: 0, pollMarginMs: 500 }, (method, _b, n) => {
    if (method !== "getUpdates") return undefined;
    if (hang && n >= 2) {
      hang = false;
      return "hang";
    }
    return n === 4 ? 409 : n === 5 ? "reset" : undefined;
  });
  const u = h.human();
  const reply = u.waitFor(TEXT.hint, { timeoutMs: 15_000 });
  u.send("anyone there?");
  await reply; // answered although one poll never returned
  const recovered = () => h.jsonLog().filter((e) => e.action === "polling_recovered").length;
  await until(() => recovered() >= 2, 15_000, "polling to recover from the timeout, then from the errors");
  const actions = h.jsonLog().map((e) => e.action);
  expect(actions).toContain("polling_timeout");
  expect(actions.filter((a) => a === "polling_conflict")).toHaveLength(1);
  const conflict = h.jsonLog().find((e) => e.action === "polling_conflict") as { message?: string };
  expect(conflict.message).toContain("another instance with this BOT_TOKEN is polling");
  expect(actions).toContain("polling_failed");
}, 30_000);

// ---- bun bot.ts as a process: SIGTERM with a hung request, SIGKILL between a booking and its message ----

const BOT = join(import.meta.dir, "..", "..", "bot.ts");

/** A sandbox, a fault proxy and `bun bot.ts` processes, all undone by `cleanup` (the test's scope). */
async function processRig(cleanup: AsyncDisposableStack, rule: FaultRule) {
  const dir = mkdtempSync(join(tmpdir(), "aprel-limits-"));
  const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [TEST_BOT] });
  const proxy = startFaultProxy(sb.botApiUrl, rule);
  cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.defer(() => sb.stop());
  cleanup.defer(() => proxy.stop());
  const bot = sb.world.botByUsername(TEST_BOT.username)!;
  const spawnBot = async () => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir };
    const p = Bun.spawn([process.execPath, BOT], {
      cwd: dir,
      env: { ...env, BOT_TOKEN: TEST_BOT.token, BOT_API_URL: proxy.url, DB_PATH: join(dir, "bot.db"), LOG_DIR: join(dir, "logs"), BOOKING_TIME: "00:00:00", TEST_MODE_ENABLED: "false" },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    cleanup.defer(() => {
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    });
    await until(() => bot.waiters.size > 0 || p.exitCode !== null, 20_000, "bun bot.ts to poll");
    return p;
  };
  return { sb, proxy, spawnBot, human: () => Human.create(sb.world, TEST_BOT.username, { first_name: "Proc" }) };
}

test.concurrent("SIGTERM while a send hangs: exits 0 within the bound", async () => {
  await using cleanup = new AsyncDisposableStack();
  const rig = await processRig(cleanup, (method) => (method === "sendMessage" ? "hang" : undefined));
  const p = await rig.spawnBot();
  const u = rig.human();
  u.send("/start");
  await until(() => (rig.proxy.calls.get("sendMessage") ?? 0) > 0, 10_000, "the reply to hang");
  const t0 = performance.now();
  p.kill("SIGTERM");
  const code = await Promise.race([p.exited, Bun.sleep(10_000).then(() => "still running")]);
  console.log(`SIGTERM with a hung send: exit ${code} after ${(performance.now() - t0).toFixed(0)} ms`);
  expect(code).toBe(0);
}, 30_000);

test.concurrent("SIGKILL after a booking, before its message: the restart tells the winner, once", async () => {
  let crashing = true;
  await using cleanup = new AsyncDisposableStack();
  const rig = await processRig(cleanup, (method, body) => (crashing && method === "sendMessage" && String(body.text).includes(RECOGNISE.booked) ? "hang" : undefined));
  const first = await rig.spawnBot();
  const u = rig.human();
  const menu = u.waitFor(TEXT.menuOpen);
  u.send("/start");
  await menu;
  const prompt = u.waitFor((m) => inlineButtons(m).some((b) => b.text === BUTTON.confirm));
  await u.press("Курган");
  await prompt;
  const answer = await u.press(BUTTON.confirm);
  expect(answer.text).toContain(RECOGNISE.booked); // the press itself was told at once
  await until(() => rig.proxy.calls.get("sendMessage")! >= 3, 5_000, "the result message to be in flight");
  first.kill("SIGKILL");
  await first.exited;
  expect(u.history().filter((m) => m.text.includes(RECOGNISE.booked))).toHaveLength(0);

  crashing = false;
  const told = u.waitFor(RECOGNISE.booked, { timeoutMs: 15_000 });
  const second = await rig.spawnBot();
  await told;
  second.kill("SIGTERM");
  expect(await second.exited).toBe(0);
  expect(u.history().filter((m) => m.text.includes(RECOGNISE.booked))).toHaveLength(1);
}, 60_000);
