// What the bot does with each update, and 🧪 test mode: a private rehearsal of the opening, timed
// on the bot's clock. Everything up to the reply is synchronous (SQLite is in-process): an update
// costs well under a millisecond before its reply is queued.

import type { BotDb, TestRunRow, TransportRow, TransportSeed } from "../db.ts";
import type { Logger } from "../log.ts";
import { BOT_TEXT, TEXT, hhmm, routeText } from "../ui.ts";
import type { BotConfig } from "./config.ts";
import { actionOfLabel, backButtons, confirmButtons, mainMenu, markup, type Action, type Buttons, type MenuState } from "./keyboards.ts";
import type { DailyOpening } from "./opening.ts";
import type { Priority, Sender } from "./sender.ts";
import { adminStatsText, testStatsText } from "./stats.ts";

export const TEST_RUN_TTL_MS = 10 * 60_000;

const runIsOpen = (run: TestRunRow, at: number) => run.status === "open" && run.sms_at !== null && at - run.sms_at < TEST_RUN_TTL_MS;

/** `at`: when the update reached the bot (test runs' clock); `messageId`: the pressed message (the `edit` UI edits it). */
export type From = { userId: number; chatId: number; firstName: string; username?: string; at: number; messageId?: number };
type Toast = { text: string; alert?: boolean };
type Bookable = { ok: true; run?: TestRunRow } | { ok: false; text: string; reason: string };

export class Handlers {
  /** Users whose row is up to date, by id → "name\0username", to skip a write per update. */
  private readonly known = new Map<number, string>();
  private testsStopped = false;

  constructor(
    private readonly db: BotDb,
    private readonly sender: Sender,
    private readonly log: Logger,
    private readonly opening: DailyOpening,
    private readonly seed: readonly TransportSeed[],
    private readonly now: () => number,
    private readonly config: Pick<BotConfig, "ADMIN_IDS" | "TEST_MODE_ENABLED" | "TEST_SMS_DELAY_MS" | "BOT_UI" | "BOOKING_TIME">,
  ) {}

  blocked(userId: number): void {
    this.db.setInactive(userId);
    this.known.delete(userId);
  }

  touchUser(u: From): void {
    const key = `${u.firstName}\0${u.username ?? ""}`;
    if (this.known.get(u.userId) === key) return;
    this.db.upsertUser(u.userId, u.firstName, u.username, u.at);
    this.known.set(u.userId, key);
  }

  /** Text that is not a command: in the `reply` UI a pressed label, else a hint. */
  onText(u: From, text: string): void {
    const action = this.config.BOT_UI === "reply" ? actionOfLabel(text, this.menuState(u).transports ?? [], this.db.selectedTransport(u.userId)) : null;
    if (action) return void this.onAction(u, action);
    this.log.debug("unknown_text", { user_id: u.userId, text: text.slice(0, 100) });
    this.reply(u, TEXT.hint);
  }

  staleButton(u: From, data: string | undefined): void {
    this.log.warn("bad_callback", { user_id: u.userId, data: String(data ?? "").slice(0, 80) });
    this.reply(u, TEXT.staleButton);
  }

  onAction(q: From, a: Action): Toast | void {
    if (a.kind === "select") return this.select(q, a.transportId);
    if (a.kind === "confirm") return this.confirm(q, a.transportId);
    if (a.kind === "myBookings") return this.myBookings(q);
    if (a.kind === "test") return this.beginTest(q);
    if (a.kind === "menu") return this.showMenu(q);
    this.db.clearSelection(q.userId);
    this.reply(q, TEXT.cancelled, backButtons());
  }

  private menuState(u: From): MenuState & { transports?: TransportRow[]; run?: TestRunRow } {
    const run = this.db.activeRun(u.userId);
    if (run && runIsOpen(run, u.at)) return { kind: "open", transports: this.db.runTransports(run.id), run };
    if (this.opening.isOpen(u.at)) return { kind: "open", transports: this.db.dayTransports(this.opening.calendar.at(u.at).day) };
    return { kind: "closed", opensAt: hhmm(this.config.BOOKING_TIME) };
  }

  showMenu(u: From): void {
    const state = this.menuState(u);
    if (state.run) this.db.runStamp(state.run.id, "start_at", u.at);
    const menu = mainMenu(state, this.config.TEST_MODE_ENABLED);
    this.reply(u, menu.text, menu.buttons);
  }

  private bookable(userId: number, t: TransportRow | null, at: number): Bookable {
    if (!t) return { ok: false, text: TEXT.unknownTransport, reason: "no_such_transport" };
    if (t.test_run_id !== null) {
      // Someone else's test transport is indistinguishable from a missing one.
      if (t.owner_id !== userId) return { ok: false, text: TEXT.unknownTransport, reason: "foreign_test_transport" };
      const run = this.db.getRun(t.test_run_id);
      if (run && runIsOpen(run, at)) return { ok: true, run };
      if (run?.status === "waiting") return { ok: false, text: TEXT.testRunning, reason: "test_not_announced" };
      return { ok: false, text: TEXT.staleButton, reason: "test_run_over" };
    }
    if (t.day !== this.opening.calendar.at(at).day) return { ok: false, text: TEXT.staleButton, reason: "other_day" };
    if (!this.opening.isOpen(at)) return { ok: false, text: TEXT.notOpen(hhmm(this.config.BOOKING_TIME)), reason: "not_open" };
    return { ok: true };
  }

  private select(q: From, transportId: number): void {
    const t = this.db.getTransport(transportId);
    const b = this.bookable(q.userId, t, q.at);
    if (!b.ok) {
      this.log.info("select_refused", { user_id: q.userId, transport_id: transportId, reason: b.reason });
      return this.reply(q, b.text);
    }
    if (b.run) this.db.runStamp(b.run.id, "select_at", q.at);
    this.db.setSelection(q.userId, transportId, q.at);
    this.reply(q, TEXT.confirmPrompt(t!), confirmButtons(transportId));
  }

  private confirm(q: From, transportId: number): Toast | void {
    const { db } = this;
    const t0 = performance.now();
    const attempt = (result: string, extra: object = {}) =>
      this.log.info("booking_attempt", { user_id: q.userId, transport_id: transportId, result, ...extra, handle_ms: Number((performance.now() - t0).toFixed(3)) });
    const t = db.getTransport(transportId);
    if (t && db.hasBooking(q.userId, transportId)) {
      attempt("already");
      return this.result(q, TEXT.alreadyBooked(t));
    }
    if (db.selectedTransport(q.userId) !== transportId) {
      attempt("no_selection");
      return this.reply(q, TEXT.selectFirst);
    }
    const b = this.bookable(q.userId, t, q.at);
    if (!b.ok) {
      attempt(b.reason);
      return this.reply(q, b.text);
    }
    const result = db.book(q.userId, transportId, q.at);
    if (result !== "booked") {
      attempt(result);
      return this.result(q, result === "already" ? TEXT.alreadyBooked(t!) : TEXT.soldOut(t!));
    }
    if (b.run && db.runDone(b.run.id, q.at)) {
      const { sms_to_start_ms, start_to_select_ms, select_to_confirm_ms, total_ms } = db.getRun(b.run.id)!;
      attempt(result, { test_run_id: b.run.id, sms_to_start_ms, start_to_select_ms, select_to_confirm_ms, total_ms });
    } else attempt(result, { seats: t!.seats });
    return this.tellBooked(q, t!);
  }

  // A booking's result: owed until delivered (bookings.told_at), sent ahead of everything else, and
  // carried by the callback answer at once (in the `alert` UI, only there).
  private tellBooked(u: From, t: TransportRow): Toast {
    const run = t.test_run_id !== null ? this.db.getRun(t.test_run_id) : null;
    let text = TEXT.booked(t);
    if (run?.total_ms != null) {
      text += "\n\n" + TEXT.testResult({ smsToStart: run.sms_to_start_ms ?? 0, startToSelect: run.start_to_select_ms ?? 0, selectToConfirm: run.select_to_confirm_ms ?? 0, total: run.total_ms });
    }
    if (this.config.BOT_UI === "alert" && u.messageId !== undefined) {
      this.db.markTold(u.userId, t.id, Date.now());
      return { text, alert: true };
    }
    void this.send(u, text, backButtons(), "won").then((o) => o === "sent" && this.db.markTold(u.userId, t.id, Date.now()));
    return { text: TEXT.booked(t) };
  }

  resendUntold(sinceMs: number, at: number): void {
    const owed = this.db.untoldBookings(sinceMs);
    if (owed.length) this.log.info("untold_results_resent", { count: owed.length }, `${owed.length} booking result(s) not delivered before the last stop: sending them now`);
    for (const b of owed) this.tellBooked({ userId: b.user_id, chatId: b.user_id, firstName: "", at }, this.db.getTransport(b.transport_id)!);
  }

  /** A result that is not a new booking: the message, and the same words in the callback answer. */
  private result(q: From, text: string): Toast {
    if (this.config.BOT_UI === "alert" && q.messageId !== undefined) return { text, alert: true };
    void this.send(q, text, backButtons(), "result");
    return { text };
  }

  private myBookings(q: From): void {
    const rows = this.db.bookedTransports(q.userId, this.opening.calendar.at(q.at).dayStart);
    if (!rows.length) return this.reply(q, TEXT.noBookings, backButtons());
    const lines = rows.map((r) => (r.test_run_id !== null ? BOT_TEXT.testLabel(routeText(r)) : routeText(r)));
    this.reply(q, TEXT.myBookings(lines), backButtons());
  }

  private beginTest(u: From): void {
    const { userId, chatId } = u;
    if (!this.config.TEST_MODE_ENABLED) return this.reply(u, TEXT.testDisabled);
    if (this.db.activeRun(userId)?.status === "waiting") return void this.sender.send(chatId, TEXT.testRunning, { userId });
    const delayMs = this.config.TEST_SMS_DELAY_MS;
    const runId = this.db.createTestRun(userId, u.at, this.seed.slice(0, 3));
    this.log.info("test_run_created", { run_id: runId, user_id: userId, sms_in_ms: delayMs });
    setTimeout(() => {
      if (!this.testsStopped) void this.sendTestSms(runId, userId, chatId);
    }, delayMs);
    void this.sender.send(chatId, TEXT.testStarting(delayMs), { userId });
  }

  private async sendTestSms(runId: number, userId: number, chatId: number): Promise<void> {
    // The clock starts when the announcement is issued and the run opens first: a /start that beats the send's response counts.
    const at = this.now();
    if (!this.db.runSmsSent(runId, at)) return; // replaced by a newer run meanwhile
    const outcome = await this.sender.send(chatId, TEXT.testAnnouncement, { userId, priority: "result" });
    const sendMs = Number((this.now() - at).toFixed(2));
    this.log.info(outcome === "sent" ? "test_sms_sent" : "test_sms_failed", { run_id: runId, user_id: userId, outcome, send_ms: sendMs });
  }

  stopTests(): void {
    this.testsStopped = true;
  }

  admin(m: From, cmd: "admin" | "admin_stats" | "admin_test_stats"): void {
    const isAdmin = this.config.ADMIN_IDS.includes(m.userId);
    this.log.info("admin_command", { user_id: m.userId, command: cmd, allowed: isAdmin });
    if (!isAdmin) return this.reply(m, TEXT.adminOnly);
    if (cmd === "admin") return this.reply(m, TEXT.adminMenu);
    if (cmd === "admin_stats") return this.reply(m, adminStatsText(this.db, this.opening.calendar.at(m.at).day));
    this.reply(m, testStatsText(this.db));
  }

  private reply(u: From, text: string, buttons?: Buttons): void {
    void this.send(u, text, buttons, "reply");
  }

  private send(u: From, text: string, buttons: Buttons | undefined, priority: Priority) {
    const editId = this.config.BOT_UI === "edit" ? u.messageId : undefined;
    return this.sender.send(u.chatId, text, { userId: u.userId, priority, editId, keyboard: buttons && markup(buttons, this.config.BOT_UI) });
  }
}
