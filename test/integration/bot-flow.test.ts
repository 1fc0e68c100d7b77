// The bot through the real Bot API of the sandbox: users press buttons as a Telegram app would.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ACTION, parseAction } from "../../lib/bot/keyboards.ts";
import { BUTTON, RECOGNISE, TEXT } from "../../lib/ui.ts";
import { inlineButtons, type Human } from "../../sandbox/human.ts";
import type { Message } from "../../sandbox/world.ts";
import { startHarness, type Harness } from "../helpers/bot-harness.ts";

let h: Harness;
const ADMIN_ID = 4_000_001;
const hasConfirm = (m: Message) => inlineButtons(m).some((b) => b.text === BUTTON.confirm);

beforeAll(async () => {
  // Booking closed all day (23:59:59 is never reached during a test run, barring midnight).
  h = await startHarness({ BOOKING_TIME: "23:59:59", ADMIN_IDS: String(ADMIN_ID), TEST_SMS_DELAY_MS: "300" });
});
afterAll(async () => {
  await h?.close();
});

/** The user opens the bot, presses 🧪 Тест and receives the test announcement. */
async function announcedTestRun(u: Human): Promise<void> {
  u.send("/start");
  await u.waitFor(RECOGNISE.notOpen);
  const sms = u.waitFor(RECOGNISE.announcement);
  await u.press(BUTTON.test);
  await sms;
}

const bookedCount = () => h.query<{ n: number }>("SELECT COUNT(*) AS n FROM bookings")[0]!.n;

describe("menu while closed", () => {
  test("/start says when booking opens; my bookings and test buttons", async () => {
    const u = h.human("Closed");
    const reply = u.waitFor(RECOGNISE.notOpen);
    u.send("/start");
    const m = await reply;
    expect(m.text).toContain("Бронирование откроется в 23:59:59");
    expect(inlineButtons(m).map((b) => b.text)).toEqual([BUTTON.myBookings, BUTTON.test]);
    const mine = u.waitFor(TEXT.noBookings);
    expect(await u.press(BUTTON.myBookings)).toEqual({});
    await mine;
  });

  test("unknown text gets a hint", async () => {
    const u = h.human();
    const reply = u.waitFor(TEXT.hint);
    u.send("дай билет");
    await reply;
  });
});

describe("test mode", () => {
  test("🧪 Тест → SMS → /start → select → confirm, with server-side stage times", async () => {
    const u = h.human("Speedy");
    const menu = u.waitFor(RECOGNISE.notOpen);
    u.send("/start");
    await menu;
    const starting = u.waitFor("🧪 Тест: созданы");
    const sms = u.waitFor(RECOGNISE.announcement, { timeoutMs: 5000 });
    const pressedAt = performance.now();
    const answer = await u.press(BUTTON.test);
    expect(answer.timeout).toBeUndefined();
    await starting;
    const smsMsg = await sms;
    // TEST_SMS_DELAY_MS=300: the SMS comes after the delay, not at once
    expect(smsMsg.ts - pressedAt).toBeGreaterThanOrEqual(250);
    expect(smsMsg.text).toBe(TEXT.testAnnouncement);

    const testMenu = u.waitFor(TEXT.menuOpen);
    u.send("/start");
    const m = await testMenu;
    const transportButtons = inlineButtons(m).filter((b) => parseAction(b.callback_data)?.kind === "select");
    expect(transportButtons.length).toBe(3);
    expect(transportButtons[0]!.text).toContain("Челябинск");
    expect(transportButtons[0]!.text).toMatch(/\d\d:\d\d/);
    expect(transportButtons[0]!.text).toContain("мест:");

    const prompt = u.waitFor(hasConfirm);
    await u.press("Челябинск");
    const p = await prompt;
    expect(inlineButtons(p).map((b) => b.text)).toEqual([BUTTON.confirm, BUTTON.cancel]);
    await Bun.sleep(20); // let each stage take measurable time
    const result = u.waitFor(RECOGNISE.booked);
    await u.press(BUTTON.confirm);
    const r = await result;
    expect(r.text).toContain("Челябинск → Екатеринбург");
    const stage = (label: string) => Number(new RegExp(`${label.replace(/[/→]/g, ".")}: (\\d+) мс`).exec(r.text)?.[1]);
    const total = stage("Общее время");
    expect(stage("SMS → /start")).toBeGreaterThanOrEqual(0);
    expect(stage("Выбор → подтверждение")).toBeGreaterThanOrEqual(15);
    expect(total).toBeGreaterThanOrEqual(stage("SMS → /start") + stage("Выбор → подтверждение"));
    expect(total).toBeLessThan(5000);

    const run = h.query<Record<string, number | string>>("SELECT * FROM test_runs WHERE user_id = ?", u.userId)[0]!;
    expect(run.status).toBe("done");
    expect(Math.round(run.total_ms as number)).toBe(total);
    expect(run.sms_at as number).toBeLessThan(run.start_at as number);
    expect(run.start_at as number).toBeLessThan(run.select_at as number);
    expect(run.select_at as number).toBeLessThan(run.confirm_at as number);

    // the booking shows up under my bookings, labelled as a test
    const mine = u.waitFor("Ваши брони");
    await u.press(BUTTON.back);
    await Bun.sleep(0);
    const menuAgain = await u.waitFor(RECOGNISE.notOpen, { existing: true });
    await u.press(BUTTON.myBookings, menuAgain.id);
    expect((await mine).text).toContain("(тест)");
  });

  test("another user cannot book my test transport", async () => {
    const owner = h.query<{ id: number }>("SELECT id FROM transports WHERE test_run_id IS NOT NULL ORDER BY id DESC LIMIT 1")[0]!;
    const intruder = h.human("Intruder");
    const before = bookedCount();
    const r1 = intruder.waitFor(TEXT.unknownTransport);
    intruder.send("/start");
    await intruder.waitFor(RECOGNISE.notOpen);
    await intruder.forge(ACTION.select.pack({ id: owner.id }));
    await r1;
    const r2 = intruder.waitFor(TEXT.selectFirst);
    await intruder.forge(ACTION.confirm.pack({ id: owner.id }));
    await r2;
    expect(bookedCount()).toBe(before);
  });
});

describe("bad input", () => {
  test("forged and garbage callback data: answered, refused, nothing changes", async () => {
    const u = h.human("Forger");
    u.send("/start");
    await u.waitFor(RECOGNISE.notOpen);
    const before = bookedCount();
    const cases: [string, string][] = [
      [ACTION.select.pack({ id: 999999 }), TEXT.unknownTransport],
      [ACTION.confirm.pack({ id: 999999 }), TEXT.selectFirst],
      [ACTION.confirm.pack({ id: 1 }), TEXT.selectFirst], // confirm without a select
      ["sel:1", TEXT.staleButton], // an old build's data
      [`${ACTION.select.pack({ id: 1 }).slice(0, -1)}!`, TEXT.staleButton],
      [`${ACTION.confirm.pack({ id: 1 }).slice(0, -1)}-1`, TEXT.staleButton],
      ["\u0000\u00ff💥", TEXT.staleButton],
      ["'; DROP TABLE bookings; --", TEXT.staleButton],
      ["x".repeat(64), TEXT.staleButton],
    ];
    for (const [data, expected] of cases) {
      const reply = u.waitFor(expected);
      const answer = await u.forge(data);
      expect(answer.timeout).toBeUndefined();
      await reply;
    }
    // a daily transport selected while booking is closed
    const daily = h.query<{ id: number }>("SELECT id FROM transports WHERE day IS NOT NULL LIMIT 1")[0];
    if (daily) {
      const r = u.waitFor(RECOGNISE.notOpen);
      await u.forge(ACTION.select.pack({ id: daily.id }));
      await r;
    }
    expect(bookedCount()).toBe(before);
  });

  test("double presses: one booking per user per transport", async () => {
    const u = h.human("Double");
    await announcedTestRun(u);
    const menu = u.waitFor(TEXT.menuOpen);
    u.send("/start");
    await menu;
    // select twice, then confirm three times at once
    const prompt = u.waitFor(hasConfirm);
    await Promise.all([u.press("Москва"), u.press("Москва")]);
    await prompt;
    await Bun.sleep(50);
    const before = bookedCount();
    const replies: string[] = [];
    const done = new Promise<void>((resolve) => {
      const off = h.sb.world.listen(u.userId, (e) => {
        if (e.type === "newMessage" && e.message.outgoingFromBot && /Забронировано|уже забронировали/.test(e.message.text)) {
          replies.push(e.message.text);
          if (replies.length === 3) {
            off();
            resolve();
          }
        }
      });
    });
    const answers = await Promise.all([u.press(BUTTON.confirm), u.press(BUTTON.confirm), u.press(BUTTON.confirm)]);
    expect(answers.every((a) => !a.timeout)).toBe(true);
    await done;
    expect(replies.filter((t) => t.includes(RECOGNISE.booked))).toHaveLength(1);
    expect(replies.filter((t) => t.includes(RECOGNISE.alreadyBooked))).toHaveLength(2);
    expect(bookedCount()).toBe(before + 1);
  });

  test("cancel clears the selection: a later confirm is refused", async () => {
    const u = h.human("Canceller");
    await announcedTestRun(u);
    u.send("/start");
    await u.waitFor(TEXT.menuOpen);
    const prompt = u.waitFor(hasConfirm);
    await u.press("Магнитогорск");
    const p = await prompt;
    const cancelled = u.waitFor(TEXT.cancelled);
    await u.press(BUTTON.cancel, p.id);
    await cancelled;
    const refused = u.waitFor(TEXT.selectFirst);
    await u.press(BUTTON.confirm, p.id);
    await refused;
  });
});

describe("admin", () => {
  test("non-admins get a short refusal and no data", async () => {
    const u = h.human("Curious");
    for (const cmd of ["/admin", "/admin_stats", "/admin_test_stats"]) {
      const r = u.waitFor(() => true);
      u.send(cmd);
      expect((await r).text).toBe(TEXT.adminOnly);
    }
  });

  test("admins get the menu, booking stats and test stats", async () => {
    h.sb.world.createUser({ id: ADMIN_ID, first_name: "Admin" });
    const { Human } = await import("../../sandbox/human.ts");
    const admin = new Human(h.sb.world, ADMIN_ID, "test_booking_bot");
    const ask = async (cmd: string) => {
      const r = admin.waitFor(() => true);
      admin.send(cmd);
      return (await r).text;
    };
    expect(await ask("/admin")).toBe(TEXT.adminMenu);
    const stats = await ask("/admin_stats");
    expect(stats).toContain("Пользователи:");
    expect(stats).toContain("Брони сегодня:");
    expect(stats).toContain("От открытия до первой брони");
    const tstats = await ask("/admin_test_stats");
    expect(tstats).toMatch(/Прогонов: [1-9]/);
    expect(tstats).toContain("медиана");
    expect(tstats).toContain("Speedy");
    admin.close();
  });
});

describe("concurrency", () => {
  test("a slow send to one user does not hold up replies to others", async () => {
    const slow = h.human("Slow");
    const fast = h.human("Fast");
    // Delay the Bot API call that answers `slow` by 1 s, as a congested chat might.
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      if (String(input).endsWith("/sendMessage") && typeof init?.body === "string" && init.body.includes(`"chat_id":${slow.userId}`)) {
        await Bun.sleep(1000);
      }
      return realFetch(input, init);
    }) as typeof fetch;
    try {
      const slowReply = slow.waitFor(TEXT.hint);
      slow.send("?");
      await Bun.sleep(30); // the slow update is being handled
      const t0 = performance.now();
      const fastReply = fast.waitFor(TEXT.hint);
      fast.send("?");
      await fastReply;
      const fastMs = performance.now() - t0;
      console.log(`reply to another user while one send hangs: ${fastMs.toFixed(1)} ms`);
      expect(fastMs).toBeLessThan(700);
      await slowReply;
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});

describe("logs", () => {
  test("booking attempts in the JSON log", async () => {
    await h.log.flush();
    const attempts = h.jsonLog().filter((e) => e.action === "booking_attempt");
    expect(attempts.some((e) => e.details.result === "booked")).toBe(true);
    expect(attempts.some((e) => e.details.result === "no_selection")).toBe(true);
    for (const e of attempts) expect(e).toMatchObject({ level: "INFO", details: { user_id: expect.any(Number) } });
  });
});
