// Booker in-process against the sandbox and the real bot (gramio over the sandbox's Bot API):
// sold-out fallback, the scheduled trigger with "not open" retries, clock sync, and the client's
// own reaction time.
//
// Reaction time over many bookings (the number in the client issue's note):
//   CLIENT_REACTION_RUNS=50 bun test test/client-booker.test.ts -t reaction

import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { TelegramClient } from "telegram";
import { prepareBooker, type Booker, type BookerOptions } from "../../lib/client/booker.ts";
import { percentile } from "../../lib/percentile.ts";
import { measureClockOffset } from "../../lib/client/clock-sync.ts";
import { connectSandboxClient } from "../helpers/gramjs.ts";
import { nowMs } from "../../lib/timing.ts";
import { Human } from "../../sandbox/human.ts";
import type { SandboxOptions } from "../../sandbox/index.ts";
import { bookingTimeAhead, startHarness, TEST_BOT, type Harness } from "../helpers/bot-harness.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const open: { h?: Harness; tg?: TelegramClient; booker?: Booker }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.booker?.close();
    await o.tg?.destroy().catch(() => {});
    await o.h?.close();
  }
});

async function setup(env: Record<string, string>, phone: string, flow: Partial<BookerOptions> = {}, sandbox: SandboxOptions = {}) {
  const h = await startHarness({ TEST_SMS_DELAY_MS: "20", ...env }, sandbox);
  const { userId, session } = h.sb.sessionFor(phone);
  const tg = await connectSandboxClient(session);
  const booker = await prepareBooker(tg, {
    botUsername: TEST_BOT.username,
    flow: { targets: [{ cities: ["Челябинск"], priority: 1 }], maxRetries: 3, retryDelayMs: 0 },
    stageTimeoutMs: 3000,
    warmUp: false, // the warm-up has its own unit test; only the reaction-time test below runs it
    ...flow,
  });
  open.push({ h, tg, booker });
  return { h, tg, booker, userId, human: new Human(h.sb.world, userId, TEST_BOT.username) };
}

async function pressTest(u: Human): Promise<void> {
  const menu = u.waitFor("откроется");
  u.send("/start");
  await menu;
  await u.press("Тест");
}

describe("Booker", () => {
  test("sold out at confirmation: falls back to the next target and books it", async () => {
    // Booking opened at midnight: /start gives the full menu at once.
    const { h, booker } = await setup({ BOOKING_TIME: "00:00:00" }, "+79990002001", {
      flow: {
        targets: [
          { cities: ["Курган"], priority: 1 },
          { cities: ["Магнитогорск"], priority: 2 },
        ],
        maxRetries: 3,
        retryDelayMs: 0,
      },
    });
    // Someone takes the last seat to Курган while our client looks at the confirmation prompt.
    const unobserve = h.sb.world.observe((e) => {
      if ((e.type === "botEdit" || e.type === "botMessage") && e.message.text.includes("Подтвердите") && e.message.text.includes("Курган")) {
        for (const t of h.query<{ id: number; seats: number }>("SELECT id, seats FROM transports WHERE to_city = 'Курган'")) {
          for (let i = 0; i < t.seats; i++) h.bot.db.book(9_000_000 + i, t.id, Date.now());
        }
      }
    });
    const o = await booker.book({ trigger: nowMs() + 50, pollWindowMs: false });
    unobserve();
    expect(o.ok).toBe(true);
    expect(o.origin).toBe("trigger");
    expect(o.result!.transport).toContain("Магнитогорск");
    expect(o.result!.attempts).toBe(2);
    expect(o.notes.some((n) => n.message.includes("sold out"))).toBe(true);
  }, 20_000);

  test("scheduled trigger a little early: 'not open' is retried until the opening, then books", async () => {
    const opening = bookingTimeAhead(1000); // setup takes ~100 ms; the trigger is 250 ms before the opening
    const { booker } = await setup({ BOOKING_TIME: opening.text }, "+79990002002", {
      flow: { targets: [{ cities: ["Челябинск"], priority: 1 }], maxRetries: 10, retryDelayMs: 100 },
    });
    const o = await booker.book({ trigger: opening.at - 250, pollWindowMs: 500 });
    expect(o.ok).toBe(true);
    expect(o.origin).toBe("trigger");
    expect(o.result!.retries).toBeGreaterThanOrEqual(1);
    expect(o.notes.some((n) => n.message.includes("not open"))).toBe(true);
    expect(o.historyPolls).toBeGreaterThan(0);
    expect(o.triggerLateMs!).toBeLessThan(50);
  }, 20_000);

  test("waiting has a deadline; cancelling resolves with cancelled", async () => {
    const { booker } = await setup({ BOOKING_TIME: "23:59:59" }, "+79990002003");
    const o = await booker.book({ timeoutMs: 200 });
    expect(o.ok).toBe(false);
    expect(o.failure).toContain("no announcement");
    const ac = new AbortController();
    const p = booker.book({ signal: ac.signal });
    await Bun.sleep(50);
    ac.abort();
    const c = await p;
    expect(c.cancelled).toBe(true);
    expect(booker.busy).toBe(false);
  }, 20_000);

  test("clock offset from Pong msg_ids follows the sandbox's clockSkewMs", async () => {
    const { tg } = await setup({ BOOKING_TIME: "23:59:59" }, "+79990002004", {}, { clockSkewMs: -3000 });
    const o = await measureClockOffset(tg, 5);
    expect(o.samples.length).toBe(5);
    expect(Math.abs(o.offsetMs - -3000)).toBeLessThan(50);
    expect(o.rttMs).toBeLessThan(200);
  }, 20_000);

  test("reaction time: update → request (in our handler) and push → request (as the sandbox sees it)", async () => {
    const runs = Number(process.env.CLIENT_REACTION_RUNS ?? 5);
    const { h, booker, userId, human } = await setup({ BOOKING_TIME: "23:59:59" }, "+79990002005", { warmUp: true });
    const pushes: { messageId: number; ts: number }[] = [];
    const requests: { method: string; ts: number }[] = [];
    h.sb.world.observe((e) => {
      if (e.type === "mtprotoPush" && e.userId === userId) pushes.push({ messageId: e.messageId, ts: e.ts });
      if (e.type === "mtprotoRequest" && e.userId === userId && (e.method === "messages.SendMessage" || e.method === "messages.GetBotCallbackAnswer")) {
        requests.push({ method: e.method, ts: e.ts });
      }
    });
    const handler: number[] = [];
    const wire: number[] = [];
    const inbound: number[] = [];
    const outbound: number[] = [];
    for (let i = 0; i < runs; i++) {
      const p = booker.book();
      await Bun.sleep(5);
      pushes.length = 0;
      requests.length = 0;
      await pressTest(human);
      const o = await p;
      expect(o.ok).toBe(true);
      expect(o.reactions.length).toBe(requests.length);
      o.reactions.forEach((r, j) => {
        handler.push(r.ms);
        const push = pushes.filter((x) => x.messageId === r.messageId && x.ts < requests[j]!.ts).at(-1);
        if (!push) return;
        wire.push(requests[j]!.ts - push.ts);
        inbound.push(r.at - r.ms - push.ts);
        outbound.push(requests[j]!.ts - r.at);
      });
    }
    const fmt = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(3)} ms, p99 ${percentile(xs, 99).toFixed(3)} ms, max ${Math.max(...xs).toFixed(3)} ms (n=${xs.length})`;
    console.log(`client reaction over ${runs} bookings:\n  update in our handler → request handed to gramjs: ${fmt(handler)}\n  update written by the sandbox → request arrives at the sandbox: ${fmt(wire)}\n    of which gramjs in (socket → decrypt → dispatch → our handler): ${fmt(inbound)}\n    and gramjs out (handed over → encrypt → socket → arrives at the sandbox): ${fmt(outbound)}`);
    expect(handler.length).toBe(runs * 3);
    expect(wire.length).toBe(runs * 3);
    // Loose bounds: a noisy 2-core machine.
    expect(percentile(handler, 50)).toBeLessThan(5);
    expect(percentile(wire, 50)).toBeLessThan(50);
  }, 300_000);
});
