import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { loadTransports, parseTransports } from "../../lib/bot/config.ts";
import { ACTION, actionOfLabel, mainMenu, markup, parseAction } from "../../lib/bot/keyboards.ts";
import { Calendar, DailyOpening, WallAnchoredClock } from "../../lib/bot/opening.ts";
import { Sender, type SendApi } from "../../lib/bot/sender.ts";
import { median, summariseTestRuns } from "../../lib/bot/stats.ts";
import { BotDb, type TransportRow } from "../../lib/db.ts";
import { createLogger, nullLogger } from "../../lib/log.ts";
import { ConfigError } from "../../lib/settings.ts";
import { nowMs } from "../../lib/timing.ts";
import { BUTTON, RECOGNISE } from "../../lib/ui.ts";

const dir = mkdtempSync(join(tmpdir(), "aprel-units-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("callback data", () => {
  test("the bot's own buttons round-trip", () => {
    expect(parseAction(ACTION.select.pack({ id: 42 }))).toEqual({ kind: "select", transportId: 42 });
    expect(parseAction(ACTION.confirm.pack({ id: 999_999_999_999_999 }))).toEqual({ kind: "confirm", transportId: 999_999_999_999_999 });
    expect(parseAction(ACTION.cancel.pack())).toEqual({ kind: "cancel" });
    expect(parseAction(ACTION.test.pack())).toEqual({ kind: "test" });
    expect(parseAction(ACTION.myBookings.pack())).toEqual({ kind: "myBookings" });
    expect(parseAction(ACTION.menu.pack())).toEqual({ kind: "menu" });
  });
  const sel = ACTION.select.pack({ id: 1 }).slice(0, -1);
  const ok = ACTION.confirm.pack({ id: 1 }).slice(0, -1);
  test.each(["", sel, `${sel}0`, `${sel}-1`, `${sel}1.5`, `${sel} 1`, `${ok}!`, `${ok}01`, `${sel}zzzzzzzzzzzzzz`, `${sel}1;2`, "DROP TABLE", "x".repeat(65), `${ACTION.cancel.pack()} `, "sel:1", "test"])(
    "garbage %p is refused",
    (data) => expect(parseAction(data)).toBeNull(),
  );
  test("undefined (a game button) is refused", () => expect(parseAction(undefined)).toBeNull());
});

const row = (id: number, seats: number, booked: number): TransportRow => ({
  id, day: "2025-01-01", test_run_id: null, owner_id: null, from_city: "Челябинск", to_city: "Москва", departure: "18:05", seats, booked,
});

describe("menu", () => {
  test("open: one button per transport with free seats, then my bookings and test", () => {
    const m = mainMenu({ kind: "open", transports: [row(1, 3, 1), row(2, 2, 2)] }, true);
    const buttons = m.buttons.flat();
    expect(buttons.map((b) => b.text)).toEqual(["Челябинск → Москва 18:05 (мест: 2)", BUTTON.myBookings, BUTTON.test]);
    expect(parseAction(buttons[0]!.data)).toEqual({ kind: "select", transportId: 1 });
    expect(markup(m.buttons, "classic").toJSON()).toEqual({ inline_keyboard: m.buttons.map((r) => r.map((b) => ({ text: b.text, callback_data: b.data }))) });
    expect(markup(m.buttons, "reply").toJSON()).toMatchObject({ keyboard: m.buttons.map((r) => r.map((b) => ({ text: b.text }))) });
  });
  test("closed: says when it opens; no test button when test mode is off", () => {
    const m = mainMenu({ kind: "closed", opensAt: "11:30" }, false);
    expect(m.text).toContain("Бронирование откроется в 11:30");
    expect(m.text).toContain(RECOGNISE.notOpen);
    expect(m.buttons.flat().map((b) => b.text)).toEqual([BUTTON.myBookings]);
  });
  test("every callback_data fits Telegram's 64 bytes", () => {
    const m = mainMenu({ kind: "open", transports: [row(999_999_999_999_999, 3, 0)] }, true);
    for (const b of m.buttons.flat()) expect(Buffer.byteLength(b.data)).toBeLessThanOrEqual(64);
  });
  test("reply UI: a pressed label is the action of its button, whatever the seats left say now", () => {
    const ts = [row(1, 3, 1), { ...row(2, 2, 0), to_city: "Курган" }];
    expect(actionOfLabel("Челябинск → Курган 18:05 (мест: 1)", ts, undefined)).toEqual({ kind: "select", transportId: 2 });
    expect(actionOfLabel(BUTTON.confirm, ts, 2)).toEqual({ kind: "confirm", transportId: 2 });
    expect(actionOfLabel(BUTTON.confirm, ts, undefined)).toBeNull();
    expect(actionOfLabel(BUTTON.back, ts, undefined)).toEqual({ kind: "menu" });
    expect(actionOfLabel("Челябинск → Тверь 18:05 (мест: 1)", ts, undefined)).toBeNull();
  });
});

describe("test stages and stats", () => {
  test("stages from the stored instants; a skipped /start counts as zero", () => {
    const db = new BotDb(":memory:");
    const stages = (stamps: { start?: number; select?: number }, confirmAt: number) => {
      const run = db.createTestRun(1, 0, []);
      db.runSmsSent(run, 1000);
      if (stamps.start !== undefined) db.runStamp(run, "start_at", stamps.start);
      if (stamps.select !== undefined) db.runStamp(run, "select_at", stamps.select);
      expect(db.runDone(run, confirmAt)).toBe(true);
      const r = db.getRun(run)!;
      return [r.sms_to_start_ms, r.start_to_select_ms, r.select_to_confirm_ms, r.total_ms];
    };
    expect(stages({ start: 1040, select: 1075 }, 1100)).toEqual([40, 35, 25, 100]);
    // no /start (a client that pressed an old menu): that stage is zero, the total still true
    expect(stages({ select: 1050 }, 1060)).toEqual([0, 50, 10, 60]);
    db.close();
  });
  test("median", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
  test("summary: best, median, mean; best users by their best run", () => {
    const run = (user_id: number, total: number, first_name = `U${user_id}`) =>
      ({ user_id, total_ms: total, sms_to_start_ms: total / 2, start_to_select_ms: total / 4, select_to_confirm_ms: total / 4, first_name, username: null }) as never;
    const s = summariseTestRuns([run(1, 100), run(1, 300), run(2, 200), run(3, 400)])!;
    expect(s.count).toBe(4);
    expect(s.total).toEqual({ best: 100, median: 250, mean: 250 });
    expect(s.best.map((b) => [b.name, b.ms])).toEqual([["U1", 100], ["U2", 200], ["U3", 400]]);
    expect(summariseTestRuns([])).toBeNull();
  });
});

describe("calendar", () => {
  test("day bounds and opening instant in a zone", () => {
    // 2025-03-01 20:00 UTC is 2025-03-02 01:00 in Yekaterinburg (UTC+5)
    const d = new Calendar(Temporal.PlainTime.from("11:30"), "Asia/Yekaterinburg").at(Date.UTC(2025, 2, 1, 20));
    expect(d.day).toBe("2025-03-02");
    expect(d.openAt).toBe(Date.UTC(2025, 2, 2, 6, 30));
    expect(d.dayStart).toBe(Date.UTC(2025, 2, 1, 19));
    expect(d.dayEnd - d.dayStart).toBe(86_400_000);
  });
});

describe("transports file", () => {
  test("the shipped file is valid, has Челябинск and small seat counts", () => {
    const seed = loadTransports(join(import.meta.dir, "..", "..", "data", "transports.json"));
    expect(seed.length).toBeGreaterThanOrEqual(6);
    expect(seed.some((t) => t.from_city === "Челябинск")).toBe(true);
    expect(seed.some((t) => t.to_city === "Челябинск")).toBe(true);
    expect(seed.every((t) => t.seats >= 2 && t.seats <= 10)).toBe(true);
  });
  test("a bad entry names itself", () => {
    expect(() => parseTransports([{ from_city: "A", to_city: "B", departure: "7:30", seats: 2 }], "f.json")).toThrow("f.json[0].departure");
    expect(() => parseTransports([{ from_city: "A", to_city: "B", departure: "07:30", seats: 0 }], "f.json")).toThrow("f.json[0].seats");
    expect(() => parseTransports({}, "f.json")).toThrow("non-empty JSON array");
  });
  test("a missing file is a configuration problem naming TRANSPORTS_FILE", () => {
    expect(() => loadTransports(join(dir, "nope.json"))).toThrow(ConfigError);
    expect(() => loadTransports(join(dir, "nope.json"))).toThrow(/^TRANSPORTS_FILE=".*nope.json": cannot read the transports file/);
  });
});

describe("database", () => {
  const seed = [{ from_city: "Челябинск", to_city: "Екатеринбург", departure: "07:30", seats: 3 }];

  test("WAL, migrations recorded, reopen is a no-op", () => {
    const path = join(dir, "m.db");
    const db = new BotDb(path);
    db.upsertUser(1, "A", undefined, 1);
    const file = new Database(path, { readonly: true });
    expect(file.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()!.journal_mode).toBe("wal");
    expect(file.query<{ user_version: number }, []>("PRAGMA user_version").get()!.user_version).toBe(2);
    file.close();
    db.close();
    const again = new BotDb(path);
    again.openDay("2025-01-01", 0, 0, seed);
    expect(again.pendingAnnouncements("2025-01-01")).toEqual([1]); // the user is still there
    again.close();
  });

  test("a herd of 1000 users books exactly the seats; a user books a transport once", () => {
    const db = new BotDb(join(dir, "herd.db"));
    db.openDay("2025-01-01", 0, 0, seed);
    const t = db.dayTransports("2025-01-01")[0]!;
    const results = Array.from({ length: 1000 }, (_, i) => db.book(i + 1, t.id, i));
    expect(results.filter((r) => r === "booked")).toHaveLength(3);
    expect(results.filter((r) => r === "soldOut")).toHaveLength(997);
    expect(db.book(1, t.id, 0)).toBe("already");
    expect(db.getTransport(t.id)!.booked).toBe(3);
    db.close();
    const file = new Database(join(dir, "herd.db"), { readonly: true });
    expect(file.query<{ user_id: number }, []>("SELECT user_id FROM bookings ORDER BY id").all().map((b) => b.user_id)).toEqual([1, 2, 3]); // in the order they came
    file.close();
  });

  test("a booking's result is owed until it is marked told", () => {
    const db = new BotDb(join(dir, "told.db"));
    db.openDay("2025-01-01", 0, 0, seed);
    const t = db.dayTransports("2025-01-01")[0]!;
    db.book(1, t.id, 10);
    db.book(2, t.id, 20);
    expect(db.untoldBookings(0)).toEqual([{ user_id: 1, transport_id: t.id }, { user_id: 2, transport_id: t.id }]);
    db.markTold(1, t.id, 30);
    expect(db.untoldBookings(0)).toEqual([{ user_id: 2, transport_id: t.id }]);
    expect(db.untoldBookings(25)).toEqual([]);
    db.close();
  });

  test("openDay is idempotent and queues one announcement per active user", () => {
    const db = new BotDb(join(dir, "open.db"));
    for (let i = 1; i <= 5; i++) db.upsertUser(i, `U${i}`, undefined, 0);
    db.setInactive(5);
    expect(db.openDay("2025-01-01", 100, 101, seed)).toBe(true);
    expect(db.openDay("2025-01-01", 100, 102, seed)).toBe(false);
    expect(db.pendingAnnouncements("2025-01-01")).toEqual([1, 2, 3, 4]);
    expect(db.dayTransports("2025-01-01")).toHaveLength(1);
    db.markAnnouncement("2025-01-01", 1, "sent", 5);
    expect(db.pendingAnnouncements("2025-01-01")).toEqual([2, 3, 4]);
    expect(db.announcementCounts("2025-01-01")).toEqual({ pending: 3, sent: 1 });
    db.close();
  });

  test("test runs: only the newest is active; stale ones are abandoned", () => {
    const db = new BotDb(join(dir, "runs.db"));
    const a = db.createTestRun(7, 0, seed);
    const b = db.createTestRun(7, 1, seed);
    expect(db.getRun(a)!.status).toBe("abandoned");
    expect(db.activeRun(7)!.id).toBe(b);
    expect(db.runTransports(b)[0]!.owner_id).toBe(7);
    expect(db.runSmsSent(b, 10)).toBe(true);
    expect(db.runStamp(b, "start_at", 20)).toBe(true);
    expect(db.runStamp(b, "start_at", 30)).toBe(false); // the first /start counts
    expect(db.abandonStaleRuns(5)).toBe(0);
    expect(db.abandonStaleRuns(11)).toBe(1);
    db.close();
  });
});

describe("logger", () => {
  test("readable and JSON-lines files, appended, flushed on close", async () => {
    const logDir = join(dir, "logs", "nested");
    for (let round = 0; round < 2; round++) {
      const log = createLogger({ dir: logDir, name: "bot" });
      log.info("booking_attempt", { user_id: 1, result: "booked", total_time_ms: 12.345 }, "Booked");
      log.debug("hidden", {});
      log.error("oops", { error: new Error("boom") });
      await log.close();
    }
    const text = readFileSync(join(logDir, "bot.log"), "utf8").trim().split("\n");
    const json = readFileSync(join(logDir, "bot_json.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(text).toHaveLength(4);
    expect(text[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - bot - INFO - Booked \[booking_attempt user_id=1 result=booked total_time_ms=12.35\]$/);
    expect(json).toHaveLength(4);
    expect(json[0]).toMatchObject({ level: "INFO", action: "booking_attempt", details: { user_id: 1, result: "booked", total_time_ms: 12.345 } });
    expect(Number.isNaN(Date.parse(json[0].timestamp))).toBe(false);
    expect(json[1].details.error).toEqual({ name: "Error", message: "boom" });
  });

  test("10k lines, none lost", async () => {
    const log = createLogger({ dir: join(dir, "perf"), name: "bot" });
    for (let i = 0; i < 10_000; i++) log.info("booking_attempt", { user_id: i, transport_id: 1, result: "soldOut" });
    await log.close();
    expect(readFileSync(join(dir, "perf", "bot_json.log"), "utf8").trim().split("\n")).toHaveLength(10_000);
  });
});

describe("the bot's clock", () => {
  test("follows the monotonic clock, and re-anchors to the wall clock only on request", () => {
    let mono = 1_000_000.25;
    let wall = 1_000_000;
    const c = new WallAnchoredClock(() => mono, () => wall);
    expect(c.now()).toBe(1_000_000.25);
    expect(c.reanchor()).toBe(0); // in step (Date.now() is floored: the 0.25 is noise)
    mono += 86_400_000;
    wall += 86_400_000 + 50; // a day of slew (or a step) later the wall clock is 50 ms ahead
    expect(c.now()).toBe(1_000_000.25 + 86_400_000); // untouched until re-anchored
    expect(c.reanchor()).toBeCloseTo(50.25, 6);
    expect(c.now()).toBeCloseTo(wall + 0.5, 6);
    mono += 10;
    expect(c.now()).toBeCloseTo(wall + 10.5, 6); // monotonic again
    wall += 10 + 1; // a 1 ms wobble: left alone
    expect(c.reanchor()).toBe(0);
  });

  test("the daily scheduler re-anchors before computing the next opening", () => {
    const db = new BotDb(":memory:");
    const entries: { action: string; details?: Record<string, unknown> }[] = [];
    const log = { ...nullLogger, info: (action: string, details?: object) => void entries.push({ action, details: details as Record<string, unknown> }) };
    // A bot whose monotonic clock fell 10 minutes behind the wall clock (e.g. after a suspend).
    const clock = new WallAnchoredClock(() => nowMs() - 600_000);
    const inAnHour = new Date(Date.now() + 3_600_000);
    const t = Temporal.PlainTime.from(inAnHour.toISOString().slice(11, 19));
    const opening = new DailyOpening(db, new Calendar(t, "UTC"), [], log, clock, new Sender({} as SendApi, nullLogger));
    opening.start();
    opening.stop();
    db.close();
    const drift = entries.find((e) => e.action === "clock_reanchored")!.details!.drift_ms as number;
    expect(drift).toBeGreaterThan(599_000);
    expect(drift).toBeLessThan(601_000);
    const scheduled = entries.find((e) => e.action === "opening_scheduled")!.details!;
    expect(Math.abs((scheduled.in_s as number) - 3600)).toBeLessThanOrEqual(1); // not 4200
    expect(Math.abs(Date.parse(scheduled.at as string) - inAnHour.getTime())).toBeLessThan(1000);
  });
});
