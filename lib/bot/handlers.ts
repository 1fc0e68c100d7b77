// What the bot does with each update. Everything up to the reply is synchronous (SQLite is
// in-process), so an update costs well under a millisecond before its send goes out; gramio runs
// updates concurrently, so a slow send never holds up anyone else.

import type { BotDb, TestRunRow, TransportRow } from "../db.ts";
import type { Logger } from "../log.ts";
import { BOT_TEXT, TEXT, routeText } from "../ui.ts";
import { parseCallback } from "./callback.ts";
import type { Calendar } from "./calendar.ts";
import { classifySendError, sendWithRetry, type BotIO } from "./io.ts";
import { backKeyboard, confirmKeyboard, mainMenu, type Keyboard, type MenuState } from "./menu.ts";
import type { DailyOpening } from "./opening.ts";
import { adminStatsText, testStatsText } from "./stats.ts";
import { runIsOpen, testStages, type TestMode } from "./test-mode.ts";

export interface From {
  userId: number;
  chatId: number;
  firstName: string;
  username?: string;
  /** When the update reached the bot (epoch ms): the server-side clock of test runs. */
  at: number;
}
export interface TextUpdate extends From {
  text: string;
}
export interface CallbackUpdate extends From {
  queryId: string;
  data?: string;
}

export interface HandlerDeps {
  db: BotDb;
  io: BotIO;
  log: Logger;
  calendar: Calendar;
  opening: DailyOpening;
  tests: TestMode;
  adminIds: ReadonlySet<number>;
  testModeEnabled: boolean;
  /** BOOKING_TIME as users read it, e.g. "11:30". */
  opensAt: string;
}

/** "/start@my_bot payload" → "start"; undefined when the text is not a command. */
export function commandOf(text: string): string | undefined {
  const m = /^\/([A-Za-z0-9_]{1,64})(?:@[A-Za-z0-9_]+)?(?:\s|$)/.exec(text.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

type Bookable = { ok: true; run?: TestRunRow } | { ok: false; text: string; reason: string };

export class Handlers {
  /** Users whose row is up to date, by id → "name\0username", to skip a write per update. */
  private readonly known = new Map<number, string>();

  constructor(private readonly d: HandlerDeps) {}

  forgetUser(userId: number): void {
    this.known.delete(userId);
  }

  private touchUser(u: From): void {
    const key = `${u.firstName}\0${u.username ?? ""}`;
    if (this.known.get(u.userId) === key) return;
    this.d.db.upsertUser(u.userId, u.firstName, u.username, u.at);
    this.known.set(u.userId, key);
  }

  async onText(m: TextUpdate): Promise<void> {
    this.touchUser(m);
    const cmd = commandOf(m.text);
    switch (cmd) {
      case "start":
      case "menu":
        return this.showMenu(m);
      case "admin":
      case "admin_stats":
      case "admin_test_stats":
        return this.admin(m, cmd);
      default:
        this.d.log.debug("unknown_text", { user_id: m.userId, text: m.text.slice(0, 100) });
        return this.reply(m, TEXT.hint);
    }
  }

  async onCallback(q: CallbackUpdate): Promise<void> {
    // Answer first: the user's app shows a spinner until we do, and nothing below changes that.
    this.d.io.answer(q.queryId);
    this.touchUser(q);
    const a = parseCallback(q.data);
    if (!a) {
      this.d.log.warn("bad_callback", { user_id: q.userId, data: String(q.data ?? "").slice(0, 80) });
      return this.reply(q, TEXT.staleButton);
    }
    switch (a.kind) {
      case "select":
        return this.select(q, a.transportId);
      case "confirm":
        return this.confirm(q, a.transportId);
      case "cancel":
        this.d.db.clearSelection(q.userId);
        return this.reply(q, TEXT.cancelled, backKeyboard());
      case "myBookings":
        return this.myBookings(q);
      case "test":
        if (!this.d.testModeEnabled) return this.reply(q, TEXT.testDisabled);
        return this.d.tests.begin(q.userId, q.chatId, q.at).catch((e) => this.sendFailed(q, e));
      case "menu":
        return this.showMenu(q);
    }
  }

  private showMenu(u: From): Promise<void> {
    const { db, opening, calendar } = this.d;
    const run = db.activeRun(u.userId);
    let state: MenuState;
    if (run && runIsOpen(run, u.at)) {
      db.runStart(run.id, u.at);
      state = { kind: "open", transports: db.runTransports(run.id) };
    } else if (opening.isOpen(u.at)) {
      state = { kind: "open", transports: db.dayTransports(calendar.at(u.at).day) };
    } else {
      state = { kind: "closed", opensAt: this.d.opensAt };
    }
    const menu = mainMenu(state, this.d.testModeEnabled);
    return this.reply(u, menu.text, menu.keyboard);
  }

  /** Whether this user may book this transport now; the reason to show when not. */
  private bookable(userId: number, t: TransportRow | null, at: number): Bookable {
    if (!t) return { ok: false, text: TEXT.unknownTransport, reason: "no_such_transport" };
    if (t.test_run_id !== null) {
      // Someone else's test transport is indistinguishable from a missing one.
      if (t.owner_id !== userId) return { ok: false, text: TEXT.unknownTransport, reason: "foreign_test_transport" };
      const run = this.d.db.getRun(t.test_run_id);
      if (run && runIsOpen(run, at)) return { ok: true, run };
      if (run?.status === "waiting") return { ok: false, text: TEXT.testRunning, reason: "test_not_announced" };
      return { ok: false, text: TEXT.staleButton, reason: "test_run_over" };
    }
    if (t.day !== this.d.calendar.at(at).day) return { ok: false, text: TEXT.staleButton, reason: "other_day" };
    if (!this.d.opening.isOpen(at)) return { ok: false, text: TEXT.notOpen(this.d.opensAt), reason: "not_open" };
    return { ok: true };
  }

  private select(q: CallbackUpdate, transportId: number): Promise<void> {
    const { db, log } = this.d;
    const t = db.getTransport(transportId);
    const b = this.bookable(q.userId, t, q.at);
    if (!b.ok) {
      log.info("select_refused", { user_id: q.userId, transport_id: transportId, reason: b.reason });
      return this.reply(q, b.text);
    }
    if (b.run) db.runSelect(b.run.id, q.at);
    db.setSelection(q.userId, transportId, q.at);
    return this.reply(q, TEXT.confirmPrompt(t!), confirmKeyboard(transportId));
  }

  private confirm(q: CallbackUpdate, transportId: number): Promise<void> {
    const { db, log } = this.d;
    const t0 = performance.now();
    const attempt = (result: string, extra: object = {}) =>
      log.info("booking_attempt", { user_id: q.userId, transport_id: transportId, result, ...extra, handle_ms: Number((performance.now() - t0).toFixed(3)) });
    const t = db.getTransport(transportId);
    if (t && db.hasBooking(q.userId, transportId)) {
      attempt("already");
      return this.reply(q, TEXT.alreadyBooked(t), backKeyboard());
    }
    const sel = db.getSelection(q.userId);
    if (!sel || sel.transport_id !== transportId) {
      attempt("no_selection");
      return this.reply(q, TEXT.selectFirst);
    }
    const b = this.bookable(q.userId, t, q.at);
    if (!b.ok) {
      attempt(b.reason);
      return this.reply(q, b.text);
    }
    const result = db.book(q.userId, transportId, q.at);
    let text: string;
    if (result === "booked") {
      text = TEXT.booked(t!);
      if (b.run) {
        const run = db.getRun(b.run.id) ?? b.run;
        const stages = testStages(run, q.at);
        db.runDone(run.id, q.at, stages);
        text += "\n\n" + TEXT.testResult(stages);
        attempt(result, { test_run_id: run.id, ...roundAll(stages) });
      } else attempt(result, { seats: t!.seats });
    } else if (result === "already") {
      attempt(result);
      text = TEXT.alreadyBooked(t!);
    } else {
      attempt(result);
      text = TEXT.soldOut(t!);
    }
    return this.reply(q, text, backKeyboard());
  }

  private myBookings(q: CallbackUpdate): Promise<void> {
    const rows = this.d.db.bookingsOf(q.userId, this.d.calendar.at(q.at).dayStart);
    if (!rows.length) return this.reply(q, TEXT.noBookings, backKeyboard());
    const lines = rows.map((r) => (r.test_run_id !== null ? BOT_TEXT.testLabel(routeText(r)) : routeText(r)));
    return this.reply(q, TEXT.myBookings(lines), backKeyboard());
  }

  private admin(m: TextUpdate, cmd: "admin" | "admin_stats" | "admin_test_stats"): Promise<void> {
    const isAdmin = this.d.adminIds.has(m.userId);
    this.d.log.info("admin_command", { user_id: m.userId, command: cmd, allowed: isAdmin });
    if (!isAdmin) return this.reply(m, TEXT.adminOnly);
    if (cmd === "admin") return this.reply(m, TEXT.adminMenu);
    if (cmd === "admin_stats") return this.reply(m, adminStatsText(this.d.db, this.d.calendar.at(m.at).day));
    return this.reply(m, testStatsText(this.d.db));
  }

  private async reply(u: From, text: string, keyboard?: Keyboard): Promise<void> {
    try {
      await sendWithRetry(this.d.io, u.chatId, text, keyboard);
    } catch (e) {
      this.sendFailed(u, e);
    }
  }

  private sendFailed(u: From, e: unknown): void {
    const f = classifySendError(e);
    if (f.kind === "blocked") {
      this.d.db.setInactive(u.userId);
      this.forgetUser(u.userId);
    }
    this.d.log.warn("reply_failed", { user_id: u.userId, kind: f.kind, error: "description" in f ? f.description : `retry_after ${f.retryAfterS}` });
  }
}

function roundAll(s: object): Record<string, number> {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [`${k}_ms`, Number((v as number).toFixed(2))]));
}
