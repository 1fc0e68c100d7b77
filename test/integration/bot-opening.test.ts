// The daily opening and its announcement through the sandbox: on time, paced, exactly once per
// user across a restart, honouring 429 retry_after and marking users who blocked the bot.

import { describe, expect, test } from "bun:test";
import { parseAction } from "../../lib/bot/keyboards.ts";
import { BUTTON, RECOGNISE, TEXT } from "../../lib/ui.ts";
import { Human, inlineButtons } from "../../sandbox/human.ts";
import { TEST_BOT, bookingTimeAhead, startHarness, until, type Harness } from "../helpers/bot-harness.ts";

const ADMIN_ID = 4_000_002;

// Each test has its own sandbox and bot, closed by `await using`; the ones that mostly wait out
// backoffs, 429s and paced sends run concurrently. The scheduler's precision is measured alone.
async function harness(...args: Parameters<typeof startHarness>): Promise<Harness & AsyncDisposable> {
  const h = await startHarness(...args);
  return Object.assign(h, { [Symbol.asyncDispose]: () => h.close() });
}

const active = (h: Harness, userId: number) => h.query<{ active: number }>("SELECT active FROM users WHERE id = ?", userId)[0]!.active;
const announcements = (u: Human) => u.history().filter((m) => m.text === TEXT.announcement).length;

/** People who have written /start to the bot (a bot cannot write first) and seen the closed menu. */
async function register(hh: Harness, n: number): Promise<Human[]> {
  const people = Array.from({ length: n }, (_, i) => hh.human(`Person ${i}`));
  await Promise.all(
    people.map((u) => {
      const r = u.waitFor(RECOGNISE.notOpen, { timeoutMs: 20_000 });
      u.send("/start");
      return r;
    }),
  );
  return people;
}

const today = (_h?: Harness) => {
  const d = new Date();
  const p = (x: number) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
};

type Failure = "network" | number | undefined;

/** Each failing test's rule, by its sandbox's Bot API URL: one fetch wrapper serves the tests running side by side. */
const failing = new Map<string, (body: { chat_id: number; text: string }) => Failure>();
const realFetch = globalThis.fetch;
const failingFetch = Object.assign(async (input: string | URL | Request, init?: RequestInit) => {
  const url = input instanceof Request ? input.url : String(input);
  const rule = [...failing].find(([base]) => url.startsWith(base))?.[1];
  if (rule && url.endsWith("/sendMessage") && typeof init?.body === "string") {
    const f = rule(JSON.parse(init.body));
    if (f === "network") throw new TypeError("fetch failed: simulated network blip");
    if (typeof f === "number") {
      const description = f >= 500 ? "Bad Gateway" : "Bad Request: chat not found";
      return Response.json({ ok: false, error_code: f, description }, { status: f });
    }
  }
  return realFetch(input, init);
}, realFetch);

/**
 * Wraps fetch (gramio's transport) so that `h`'s announcement sends fail as `fail(chatId, n)` says
 * (n: that chat's attempt number, from 1): "network" throws as fetch does when the connection
 * drops, a number answers with that HTTP error. Returns the attempts' times per chat and a restore.
 */
function failAnnouncements(h: Harness, fail: (chatId: number, n: number) => Failure) {
  const attempts = new Map<number, number[]>();
  failing.set(h.sb.botApiUrl, (body) => {
    if (body.text !== TEXT.announcement) return undefined;
    const times = attempts.get(body.chat_id) ?? [];
    times.push(performance.now());
    attempts.set(body.chat_id, times);
    return fail(body.chat_id, times.length);
  });
  globalThis.fetch = failingFetch;
  const restore = () => {
    failing.delete(h.sb.botApiUrl);
    if (failing.size === 0) globalThis.fetch = realFetch;
  };
  return { attempts, restore };
}

describe("daily opening", () => {
  test("opens at BOOKING_TIME and announces to every user once", async () => {
    await using h = await harness({ BOOKING_TIME: "23:59:59" });
    const people = await register(h, 20);
    const opening = bookingTimeAhead(400); // the next whole second at least 400 ms away
    await h.restart({ BOOKING_TIME: opening.text, ADMIN_IDS: String(ADMIN_ID) });

    const first = people[0]!.waitFor(RECOGNISE.announcement, { timeoutMs: 8000 });
    await first;
    await until(() => people.every((u) => announcements(u) === 1), 8000, "every announcement");
    const row = h.query<{ opened_at: number; scheduled_at: number }>("SELECT * FROM openings WHERE day = ?", today(h))[0]!;
    const late = row.opened_at - row.scheduled_at;
    console.log(`opening: ${late.toFixed(2)} ms after BOOKING_TIME`);
    expect(row.scheduled_at).toBe(opening.at);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(50); // the precise scheduler (a few ms), loosely bounded on a noisy 2-core box

    // booking is open now: the menu lists today's transports
    const u = people[1]!;
    const menu = u.waitFor(TEXT.menuOpen);
    u.send("/start");
    expect(inlineButtons(await menu).filter((b) => parseAction(b.callback_data)?.kind === "select").length).toBeGreaterThan(5);
    await h.bot.broadcastIdle();
    expect(h.bot.db.announcementCounts(today(h))).toEqual({ sent: 20 });
    await h.log.flush();
    expect(h.jsonLog().some((e) => e.action === "booking_opened")).toBe(true);

    // two bookings, 30 ms apart: /admin_stats shows when they came, counted from the opening
    const window: [number, number][] = [];
    for (const b of [people[2]!, people[3]!]) {
      const open = b.waitFor(TEXT.menuOpen);
      b.send("/start");
      const sel = inlineButtons(await open).find((x) => parseAction(x.callback_data)?.kind === "select")!;
      const prompt = b.waitFor((m) => inlineButtons(m).some((x) => x.text === BUTTON.confirm));
      await b.press(sel.text);
      await prompt;
      const booked = b.waitFor(RECOGNISE.booked);
      const before = Date.now();
      await b.press(BUTTON.confirm);
      await booked;
      window.push([before, Date.now()]);
      await Bun.sleep(30);
    }
    h.sb.world.createUser({ id: ADMIN_ID, first_name: "Admin" });
    const admin = new Human(h.sb.world, ADMIN_ID, TEST_BOT.username);
    const reply = admin.waitFor(/Статистика/);
    admin.send("/admin_stats");
    const stats = (await reply).text;
    admin.close();
    const num = (re: RegExp) => Number(re.exec(stats)?.[1]);
    const firstMs = num(/до первой брони: (\d+) мс/);
    const lastMs = num(/до последней брони: (\d+) мс/);
    console.log(`admin stats: first sale ${firstMs} ms, last ${lastMs} ms after the opening`);
    expect(stats).toContain("Брони сегодня: 2");
    // counted from opened_at (BOOKING_TIME + under 50 ms), so bracketed by each confirm's round trip
    for (const [ms, [before, after]] of [[firstMs, window[0]!], [lastMs, window[1]!]] as const) {
      expect(ms).toBeGreaterThanOrEqual(before - opening.at - 50 - 2);
      expect(ms).toBeLessThanOrEqual(after - opening.at + 2);
    }
    expect(lastMs - firstMs).toBeGreaterThanOrEqual(30);
    await Bun.sleep(200);
    expect(people.every((p) => announcements(p) === 1)).toBe(true);
  }, 30_000);

  test.concurrent("a restart in the middle of the announcement neither re-sends nor loses any", async () => {
    await using h = await harness({ BOOKING_TIME: "23:59:59" });
    const people = await register(h, 40);
    // A BOOKING_TIME already past: the restart opens the day at once.
    await h.restart({ BOOKING_TIME: "00:00:00", BROADCAST_RATE_PER_S: "20" }); // 40 users: about 2 s

    await until(() => people.filter((u) => announcements(u) > 0).length >= 10, 10_000, "a quarter of the announcements");
    await h.restart({ BOOKING_TIME: "00:00:00", BROADCAST_RATE_PER_S: "20" });
    const atRestart = people.filter((u) => announcements(u) > 0).length;
    expect(atRestart).toBeGreaterThanOrEqual(10);
    expect(atRestart).toBeLessThan(40);

    await until(() => people.every((u) => announcements(u) >= 1), 15_000, "every announcement after the restart");
    await h.bot.broadcastIdle();
    await Bun.sleep(200);
    const counts = people.map(announcements);
    console.log(`restart: ${atRestart} of 40 announced before the restart, the rest after`);
    expect(counts.every((c) => c === 1)).toBe(true);
    expect(h.bot.db.announcementCounts(today(h))).toEqual({ sent: 40 });
    await h.log.flush();
    const log = h.jsonLog();
    expect(log.filter((e) => e.action === "booking_opened")).toHaveLength(1);
    expect(log.some((e) => e.action === "booking_already_open")).toBe(true);
    expect(log.some((e) => e.action === "broadcast_interrupted")).toBe(true);
  }, 40_000);

  test.concurrent("429 retry_after is honoured and users who blocked the bot are marked inactive", async () => {
    // The sandbox enforces Telegram's limits (30 msg/s); the bot is told to go far faster.
    await using h = await harness({ BOOKING_TIME: "23:59:59" }, { rateLimit: true });
    const people = await register(h, 40);
    const blockers = people.slice(0, 5);
    for (const b of blockers) h.sb.world.setBlocked(b.userId, b.botId, true);
    await h.restart({ BOOKING_TIME: "00:00:00", BROADCAST_RATE_PER_S: "500" }); // 35 sends at once: more than Telegram's burst of 30

    const others = people.slice(5);
    await until(() => others.every((u) => announcements(u) === 1), 20_000, "every announcement despite 429s");
    await h.bot.broadcastIdle();
    expect(blockers.every((u) => announcements(u) === 0)).toBe(true);
    expect(h.bot.db.announcementCounts(today(h))).toEqual({ sent: 35, blocked: 5 });
    for (const b of blockers) expect(active(h, b.userId)).toBe(0);
    expect(active(h, others[0]!.userId)).toBe(1);
    await h.log.flush();
    const limited = h.jsonLog().filter((e) => e.action === "send_rate_limited");
    console.log(`429s during the broadcast: ${limited.length}`);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.details.retry_after_s).toBeGreaterThanOrEqual(1);

    // a blocker who comes back is active again
    h.sb.world.setBlocked(blockers[0]!.userId, blockers[0]!.botId, false);
    const menu = blockers[0]!.waitFor(TEXT.menuOpen, { timeoutMs: 5000 });
    blockers[0]!.send("/start");
    await menu;
    expect(active(h, blockers[0]!.userId)).toBe(1);
  }, 40_000);

  test.concurrent("network errors and 5xx back off and retry: every user still gets exactly one; a 400 gives up", async () => {
    await using h = await harness({ BOOKING_TIME: "23:59:59" });
    const people = await register(h, 10);
    const lost = people[9]!; // "chat not found": permanent
    // A blip: every user's first attempt fails (network or 502), half of them a second time too.
    const f = failAnnouncements(h, (chat, n) =>
      chat === lost.userId ? 400 : n === 1 ? (chat % 2 ? "network" : 502) : n === 2 && chat % 2 === 0 ? "network" : undefined,
    );
    try {
      await h.restart({ BOOKING_TIME: "00:00:00" });
      const others = people.slice(0, 9);
      await until(() => others.every((u) => announcements(u) === 1), 20_000, "every announcement after the retries");
      await h.bot.broadcastIdle();
      await Bun.sleep(200);
      expect(others.map(announcements)).toEqual(others.map(() => 1));
      expect(announcements(lost)).toBe(0);
      expect(f.attempts.get(lost.userId)).toHaveLength(1); // a permanent error is not retried
      expect(h.bot.db.announcementCounts(today(h))).toEqual({ sent: 9, failed: 1 });
      // backoff: about 0.5 s before the second attempt, about 1 s more before the third
      for (const u of others) {
        const t = f.attempts.get(u.userId)!;
        expect(t.length).toBe(u.userId % 2 ? 2 : 3);
        expect(t[1]! - t[0]!).toBeGreaterThanOrEqual(450);
        if (t[2] !== undefined) expect(t[2] - t[1]!).toBeGreaterThanOrEqual(950);
      }
      await h.log.flush();
      const log = h.jsonLog();
      expect(log.filter((e) => e.action === "send_retry" && e.details.priority === "broadcast")).toHaveLength(9 + others.filter((u) => u.userId % 2 === 0).length);
      expect(log.filter((e) => e.action === "send_failed")).toHaveLength(1);
    } finally {
      f.restore();
    }
  }, 40_000);

  test.concurrent("users waiting out a backoff stay pending: a restart sends them their one announcement", async () => {
    await using h = await harness({ BOOKING_TIME: "23:59:59" });
    const people = await register(h, 8);
    let down = true; // the network is down until the restart
    const f = failAnnouncements(h, () => (down ? "network" : undefined));
    try {
      await h.restart({ BOOKING_TIME: "00:00:00" });
      await until(() => people.every((u) => f.attempts.has(u.userId)), 10_000, "a first attempt to everyone");
      expect(h.bot.db.announcementCounts(today(h))).toEqual({ pending: 8 });
      down = false;
      await h.restart({ BOOKING_TIME: "00:00:00" });
      await until(() => people.every((u) => announcements(u) === 1), 10_000, "every announcement after the restart");
      await h.bot.broadcastIdle();
      await Bun.sleep(200);
      expect(people.map(announcements)).toEqual(people.map(() => 1));
      expect(h.bot.db.announcementCounts(today(h))).toEqual({ sent: 8 });
    } finally {
      f.restore();
    }
  }, 40_000);
});
