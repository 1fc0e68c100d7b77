// The daily opening and its announcement through the sandbox: on time, paced, exactly once per
// user across a restart, honouring 429 retry_after and marking users who blocked the bot.

import { afterEach, describe, expect, test } from "bun:test";
import { RECOGNISE, TEXT } from "../lib/ui.ts";
import { inlineButtons, type Human } from "../sandbox/human.ts";
import { bookingTimeAhead, startHarness, until, type Harness } from "./helpers/bot-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

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

describe("daily opening", () => {
  test("opens at BOOKING_TIME and announces to every user once", async () => {
    h = await startHarness({ BOOKING_TIME: "23:59:59" });
    const people = await register(h, 20);
    const opening = bookingTimeAhead(1500);
    await h.restart({ BOOKING_TIME: opening.text });

    const first = people[0]!.waitFor(RECOGNISE.announcement, { timeoutMs: 8000 });
    await first;
    await until(() => people.every((u) => announcements(u) === 1), 8000, "every announcement");
    const row = h.bot.db.getOpening(today(h))!;
    const late = row.opened_at - row.scheduled_at;
    console.log(`opening: ${late.toFixed(2)} ms after BOOKING_TIME`);
    expect(row.scheduled_at).toBe(opening.at);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(100); // the precise scheduler, loosely bounded on a noisy box

    // booking is open now: the menu lists today's transports
    const u = people[1]!;
    const menu = u.waitFor(TEXT.menuOpen);
    u.send("/start");
    expect(inlineButtons(await menu).filter((b) => b.callback_data?.startsWith("sel:")).length).toBeGreaterThan(5);
    await h.bot.broadcastIdle();
    expect(h.bot.db.announcementCounts(today(h))).toEqual({ sent: 20 });
    await h.log.flush();
    expect(h.jsonLog().some((e) => e.action === "booking_opened")).toBe(true);
    await Bun.sleep(200);
    expect(people.every((p) => announcements(p) === 1)).toBe(true);
  }, 30_000);

  test("a restart in the middle of the announcement neither re-sends nor loses any", async () => {
    h = await startHarness({ BOOKING_TIME: "23:59:59" });
    const people = await register(h, 60);
    const opening = bookingTimeAhead(1000);
    await h.restart({ BOOKING_TIME: opening.text, BROADCAST_RATE_PER_S: "20" }); // 60 users: about 3 s

    await until(() => people.filter((u) => announcements(u) > 0).length >= 15, 10_000, "a quarter of the announcements");
    await h.restart({ BOOKING_TIME: opening.text, BROADCAST_RATE_PER_S: "20" });
    const atRestart = people.filter((u) => announcements(u) > 0).length;
    expect(atRestart).toBeGreaterThanOrEqual(15);
    expect(atRestart).toBeLessThan(60);

    await until(() => people.every((u) => announcements(u) >= 1), 15_000, "every announcement after the restart");
    await h.bot.broadcastIdle();
    await Bun.sleep(200);
    const counts = people.map(announcements);
    console.log(`restart: ${atRestart} of 60 announced before the restart, the rest after`);
    expect(counts.every((c) => c === 1)).toBe(true);
    expect(h.bot.db.announcementCounts(today(h))).toEqual({ sent: 60 });
    await h.log.flush();
    const log = h.jsonLog();
    expect(log.filter((e) => e.action === "booking_opened")).toHaveLength(1);
    expect(log.some((e) => e.action === "booking_already_open")).toBe(true);
    expect(log.some((e) => e.action === "broadcast_interrupted")).toBe(true);
  }, 40_000);

  test("429 retry_after is honoured and users who blocked the bot are marked inactive", async () => {
    // The sandbox enforces Telegram's limits (30 msg/s); the bot is told to go far faster.
    h = await startHarness({ BOOKING_TIME: "23:59:59" }, { rateLimit: true });
    const people = await register(h, 70);
    const blockers = people.slice(0, 5);
    for (const b of blockers) h.sb.world.setBlocked(b.userId, b.botId, true);
    const opening = bookingTimeAhead(1500);
    await h.restart({ BOOKING_TIME: opening.text, BROADCAST_RATE_PER_S: "500" });

    const others = people.slice(5);
    await until(() => others.every((u) => announcements(u) === 1), 20_000, "every announcement despite 429s");
    await h.bot.broadcastIdle();
    expect(blockers.every((u) => announcements(u) === 0)).toBe(true);
    expect(h.bot.db.announcementCounts(today(h))).toEqual({ sent: 65, blocked: 5 });
    for (const b of blockers) expect(h.bot.db.getUser(b.userId)!.active).toBe(0);
    expect(h.bot.db.getUser(others[0]!.userId)!.active).toBe(1);
    await h.log.flush();
    const limited = h.jsonLog().filter((e) => e.action === "broadcast_rate_limited");
    console.log(`429s during the broadcast: ${limited.length}`);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.details.retry_after_s).toBeGreaterThanOrEqual(1);

    // a blocker who comes back is active again
    h.sb.world.setBlocked(blockers[0]!.userId, blockers[0]!.botId, false);
    const menu = blockers[0]!.waitFor(TEXT.menuOpen, { timeoutMs: 5000 });
    blockers[0]!.send("/start");
    await menu;
    expect(h.bot.db.getUser(blockers[0]!.userId)!.active).toBe(1);
  }, 40_000);
});
